/**
 * The incremental synth's plan (src/synth-plan.ts): which accounts' checks need not run again, which
 * stacks are reused, and when a reused stack's files are trusted by their stat signature. Every reuse
 * rule here has its fallback beside it: the answer on any doubt is the work a full synth does.
 */
import {
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { createHash } from "node:crypto";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { stringify } from "yaml";
import { loadConfigFile, sourceDigests } from "../src/config/load";
import { checkConfig, ConfigError } from "../src/config/rules";
import type { Config } from "../src/config/schema";
import { serializeLock } from "../src/gitlab/lock";
import { synthesize } from "../src/synth";
import {
  readRawInputs,
  readRunRecord,
  recordDirFor,
  runKeyOf,
  stackRecordFile,
  upToDate,
} from "../src/synth-cache";
import { changedStacks, checkedAccounts, planSynth } from "../src/synth-plan";
import { fullSynthTree, generated, incrementalSynth, treeOf, withS3State } from "./support/incremental";
import { parse, type RawConfig } from "./support/configs";
import { waitForFilesystemTick } from "./support/filesystem-clock";

let root: string;
let outdir: string;
let cacheDir: string;
beforeEach(() => {
  root = realpathSync(mkdtempSync(join(tmpdir(), "gitlab-oidc-plan-")));
  outdir = join(root, "out");
  cacheDir = join(root, "cache");
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

type Roles = { roles: { description?: string; allow: { project?: string }[] }[] }[];
const plan = (config: Config) => planSynth(config, { outdir, hcl: true, cacheDir });

/** Rewrites a checksummed record file's body (everything after its checksum line) through `edit`. */
function rewrite(file: string, edit: (body: Buffer) => Buffer): void {
  const bytes = readFileSync(file);
  const body = edit(bytes.subarray(65));
  writeFileSync(file, Buffer.concat([Buffer.from(`${sha256(body)}\n`), body]));
}
const sha256 = (data: Uint8Array) => createHash("sha256").update(data).digest("hex");

describe("the config's checks, reused per account", () => {
  test("an account whose record passed the same checks on the same inputs is not checked again", () => {
    // GIVEN a checked config synthesized with records
    const { raw, lock } = generated(3, 3);
    incrementalSynth(parse(raw, lock), outdir, cacheDir);
    // WHEN a role of the second account changes
    (raw.accounts as Roles)[1].roles[0].description = "changed";
    const config = parse(raw, lock);
    // THEN the other accounts need no checks, the changed one does, and only its stack is synthesized
    const planned = plan(config);
    expect([...checkedAccounts(planned)]).toEqual([config.accounts[0], config.accounts[2]]);
    expect(changedStacks(planned)).toEqual([config.accounts[1].name]);
  });

  test("a config that did not come out of the loader's checks vouches for nothing", () => {
    // GIVEN a config synthesized as a copy of a checked one (the same data, but not what the loader
    // returned: code that built or changed a config)
    const { raw, lock } = generated(2, 2);
    const checked = parse(raw, lock);
    incrementalSynth({ ...checked }, outdir, cacheDir);
    // THEN every stack is reused, but no account's checks are
    const planned = plan(checked);
    expect(changedStacks(planned)).toEqual([]);
    expect(checkedAccounts(planned).size).toBe(0);
  });

  test("checks across accounts run even when every account's own checks are skipped", () => {
    // GIVEN two accounts with one name (a problem only the checks across accounts see)
    const { raw, lock } = generated(2, 1);
    const config = parse(raw, lock);
    const clash = { ...config, accounts: [config.accounts[0], { ...config.accounts[1], name: "acct-001" }] };
    // WHEN it is checked with both accounts known to pass their own checks
    const problems = checkConfig(clash, () => new Set(clash.accounts));
    // THEN the clash is still found
    expect(problems.map((p) => p.message).join("\n")).toMatch(/stack name "acct-001" is already used/);
  });

  describe("the main job's loading (a config file and its lock)", () => {
    let configFile: string;
    let raw: RawConfig;
    const load = () => {
      let planned: ReturnType<typeof plan> | undefined;
      const config = loadConfigFile(configFile, {
        checkedBefore: (parsed) => checkedAccounts((planned = plan(parsed))),
      });
      return { config, planned: planned! };
    };
    beforeEach(() => {
      const made = generated(3, 2);
      raw = made.raw;
      configFile = join(root, "gitlab-oidc.yaml");
      writeFileSync(configFile, stringify(raw));
      writeFileSync(join(root, "gitlab-oidc.lock.yaml"), serializeLock(made.lock));
      synthesize(loadConfigFile(configFile), { outdir, hcl: true, cacheDir });
    });

    test("an edit that breaks a rule in one account is refused, with the others' checks reused", () => {
      // GIVEN a grant of the third account naming a project the lock lacks
      (raw.accounts as Roles)[2].roles[0].allow[0].project = "acme/not-locked";
      writeFileSync(configFile, stringify(raw));
      // WHEN the main job loads it with the records' plan
      // THEN the problem is reported, as without records
      expect(load).toThrow(ConfigError);
      expect(load).toThrow(/acme\/not-locked.*is not in the lock file/);
    });

    test("a config whose accounts do not fit together is refused as the loader says, not planned", () => {
      // GIVEN state in S3 in an account the config does not have (the plan could not be made of it)
      withS3State(raw);
      (raw.state as Record<string, unknown>).account = "no-such-account";
      writeFileSync(configFile, stringify(raw));
      // WHEN the main job loads it with the records' plan
      // THEN the loader's problem is reported (a ConfigError, not the plan's failure)
      expect(load).toThrow(ConfigError);
      expect(load).toThrow(/"no-such-account" is not an account of this config/);
    });

    test("the loaded config is the one the plan was made for, and its checks vouch for the next run", () => {
      // GIVEN an unchanged config loaded with the plan
      const { config, planned } = load();
      // THEN the plan is for that config, and every account's checks were reused
      expect(planned.config).toBe(config);
      expect(checkedAccounts(planned).size).toBe(3);
      // AND synthesizing with it reuses every stack
      expect(synthesize(config, { outdir, hcl: true, cacheDir, plan: planned }).reused).toHaveLength(3);
    });

    test("the config, its key and its digests come from one read of the files", () => {
      const inputs = readRawInputs(configFile, join(root, "gitlab-oidc.lock.yaml"))!;
      expect(sourceDigests(configFile, inputs)).toEqual(sourceDigests(configFile));
      expect(runKeyOf(configFile, join(root, "gitlab-oidc.lock.yaml"), true, inputs)).toBe(
        runKeyOf(configFile, join(root, "gitlab-oidc.lock.yaml"), true),
      );
      expect(loadConfigFile(configFile, { inputs })).toEqual(loadConfigFile(configFile));
    });
  });

  test("a plan made for another config, or with records read for a synth that reuses none, is refused", () => {
    const { raw, lock } = generated(1, 1);
    const config = parse(raw, lock);
    const planned = plan(config);
    expect(() => synthesize(parse(raw, lock), { outdir, hcl: true, cacheDir, plan: planned })).toThrow(
      /plan was made for another config/,
    );
    expect(() => synthesize(config, { outdir, hcl: true, cacheDir, reuse: false, plan: planned })).toThrow(
      /plan was made for another config/,
    );
    expect(synthesize(config, { outdir, hcl: true, cacheDir, plan: planned }).stacks).toHaveLength(1);
  });
});

describe("reused files are trusted by their stat signature only for the bytes it was taken for", () => {
  let config: Config;
  let file: string;
  /** The first stack's cdk.tf, rewritten in place with other bytes of the same length, mtime kept. */
  const editKeepingSizeAndMtime = () => {
    // After the filesystem's clock moved past the file, so that the edit moves its ctime even where
    // that clock is coarse (test/support/filesystem-clock.ts).
    waitForFilesystemTick(dirname(outdir), [file]);
    const before = statSync(file);
    writeFileSync(file, readFileSync(file, "utf8").replace("gitlab", "GITLAB"));
    utimesSync(file, before.atime, before.mtime);
    expect(statSync(file).size).toBe(before.size);
    expect(statSync(file, { bigint: true }).mtimeNs).toBe(BigInt(before.mtime.getTime()) * 1_000_000n);
  };
  beforeEach(() => {
    const { raw, lock } = generated(2, 2);
    config = parse(raw, lock);
    const key = "key";
    synthesize(config, { outdir, hcl: true, cacheDir, runKey: key });
    // The first stack's mtime on a whole second, so that an edit can set it back exactly.
    file = join(outdir, "stacks", config.accounts[0].name, "cdk.tf");
    const second = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000);
    utimesSync(file, second, second);
    // Signatures of every file kept in the run record (settle time a minute ahead: all count as settled,
    // even a ctime in the millisecond of the check, which a settle time of 0 left out under load).
    expect(upToDate(cacheDir, outdir, true, key, -60_000)).toBeDefined();
    expect(readRunRecord(recordDirFor(cacheDir, outdir, true), outdir)?.stats).toHaveProperty([
      `stacks/${config.accounts[0].name}/cdk.tf`,
    ]);
  });

  test("an unchanged file with its signature kept is reused", () => {
    expect(synthesize(config, { outdir, hcl: true, cacheDir }).reused).toHaveLength(2);
  });

  test("a file changed in place, same size and mtime, is read, and its stack synthesized again", () => {
    // GIVEN the first stack's cdk.tf edited keeping its size and mtime (its ctime moves)
    editKeepingSizeAndMtime();
    // WHEN the config is synthesized again
    const result = synthesize(config, { outdir, hcl: true, cacheDir });
    // THEN that stack is synthesized again, and the output is a full synth's
    expect(result.reused).toEqual([config.accounts[1].name]);
    expect(treeOf(outdir)).toEqual(fullSynthTree(config));
  });

  test("a signature kept for other bytes than the stack record's is not trusted", () => {
    // GIVEN the first stack's cdk.tf edited, and a run record that keeps the edited file's signature
    // for a digest other than the one in the stack's record (checksum made valid)
    editKeepingSizeAndMtime();
    const signature = (() => {
      const stat = statSync(file, { bigint: true });
      return `${stat.size}:${stat.ino}:${stat.mtimeNs}:${stat.ctimeNs}`;
    })();
    const runFile = join(recordDirFor(cacheDir, outdir, true), "run.json");
    const relative = `stacks/${config.accounts[0].name}/cdk.tf`;
    rewrite(runFile, (body) => {
      const value = JSON.parse(body.toString("utf8")) as {
        run: { files: Record<string, string>; stats: Record<string, string> };
      };
      value.run.files[relative] = "0".repeat(64);
      value.run.stats[relative] = signature;
      return Buffer.from(JSON.stringify(value));
    });
    // WHEN the config is synthesized again
    // THEN the file is read (not trusted), found changed, and its stack synthesized again
    expect(synthesize(config, { outdir, hcl: true, cacheDir }).reused).toEqual([config.accounts[1].name]);
    expect(treeOf(outdir)).toEqual(fullSynthTree(config));
  });
});

describe("stack records", () => {
  let config: Config;
  beforeEach(() => {
    const { raw, lock } = generated(2, 2);
    config = parse(raw, lock);
    incrementalSynth(config, outdir, cacheDir);
  });
  const recordOf = (i: number) =>
    stackRecordFile(recordDirFor(cacheDir, outdir, true), config.accounts[i].name);

  test("a record of the earlier format (with the stack's model) is not reused", () => {
    // GIVEN the first stack's record marked as the earlier format (checksum made valid)
    rewrite(recordOf(0), (body) =>
      Buffer.from(body.toString("utf8").replace("synth cache 2", "synth cache 1")),
    );
    // THEN that stack is synthesized again
    expect(incrementalSynth(config, outdir, cacheDir).reused).toEqual([config.accounts[1].name]);
  });

  test("an account stack's record without its ACCESS.md section is not reused", () => {
    // GIVEN the first stack's record cut after its JSON (checksum made valid)
    rewrite(recordOf(0), (body) => body.subarray(0, body.indexOf(0x0a)));
    // THEN that stack is synthesized again, and ACCESS.md is a full synth's
    expect(incrementalSynth(config, outdir, cacheDir).reused).toEqual([config.accounts[1].name]);
    expect(treeOf(outdir)).toEqual(fullSynthTree(config));
  });

  test("a reused stack's ACCESS.md section is the recorded bytes, in its place", () => {
    // GIVEN the first stack's recorded section with a word changed (checksum made valid): what a
    // record written by this tool for these inputs can never hold, so it shows where the bytes come from
    rewrite(recordOf(0), (body) => {
      const end = body.indexOf(0x0a);
      const section = body.subarray(end + 1).toString("utf8");
      expect(section).toContain("## acct-001");
      return Buffer.concat([
        body.subarray(0, end + 1),
        Buffer.from(section.replace("## acct-001", "## ACCT")),
      ]);
    });
    // WHEN the config is synthesized again
    incrementalSynth(config, outdir, cacheDir);
    // THEN ACCESS.md holds the recorded section
    expect(readFileSync(join(outdir, "ACCESS.md"), "utf8")).toContain("## ACCT");
  });
});
