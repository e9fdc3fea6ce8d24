import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Config } from "../src/config/schema";
import { parse as parseYaml } from "yaml";
import { generateConfig, generateLock } from "../bench/generate";
import { parseLock } from "../src/gitlab/lock";
import { synthesize } from "../src/synth";
import {
  canonicalText,
  filesystemInstant,
  settles,
  KEPT_RECORDS,
  recordDirFor,
  readRunRecord,
  runKeyOf,
  stackInputs,
  stackRecordFile,
  upToDate,
} from "../src/synth-cache";
import { sha256Hex } from "../src/runtime/sha256";
import {
  fullSynthTree,
  generated,
  incrementalSynth,
  outputOf,
  policyExtension,
  treeOf,
  wholeAppStackTree,
} from "./support/incremental";
import {
  everyEditKind,
  perAccountAppsMatchOneApp,
  stateEditsWithExtension,
} from "./support/incremental-scenarios";
import { parse, type RawConfig } from "./support/configs";
import { waitForFilesystemTick } from "./support/filesystem-clock";

let root: string;
let outdir: string;
let cacheDir: string;
beforeEach(() => {
  root = realpathSync(mkdtempSync(join(tmpdir(), "gitlab-oidc-incremental-")));
  outdir = join(root, "out");
  cacheDir = join(root, "cache");
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

// The smallest configs that still exercise every kind of edit; test/slow/synth-incremental-sweep.test.ts
// runs the same scenarios on larger ones, and many more random edits.
describe("synthesizing each account on its own App", () => {
  test("writes the bytes of one App with every stack, generated files rendered afresh", () => {
    perAccountAppsMatchOneApp({ accounts: 2, roles: 3 }, outdir, cacheDir);
  });
});

describe("incremental synth", () => {
  test("a one-role edit re-synthesizes that account only, and writes what a full synth writes", () => {
    // GIVEN an output synthesized with a record
    const { raw, lock } = generated(3, 2);
    expect(incrementalSynth(parse(raw, lock), outdir, cacheDir).reused).toEqual([]);
    // WHEN one role in the third account gains a branch
    const accounts = raw.accounts as { name: string; roles: { allow: { branches?: string[] }[] }[] }[];
    accounts[2].roles[1].allow[0].branches!.push("hotfix");
    const config = parse(raw, lock);
    const result = incrementalSynth(config, outdir, cacheDir);
    // THEN the other accounts are reused
    expect(result.reused).toEqual(accounts.filter((_, i) => i !== 2).map((a) => a.name));
    // AND the output is byte-identical to a full synth, ACCESS.md and the pipeline's jobs included
    expect(treeOf(outdir)).toEqual(fullSynthTree(config));
    // AND to the output rendered afresh on one App (ACCESS.md's parts of reused stacks included)
    expect(outputOf(outdir)).toEqual(wholeAppStackTree(config));
    // AND the edit is in it
    expect(readFileSync(join(outdir, "stacks", accounts[2].name, "cdk.tf"), "utf8")).toContain("hotfix");
  });

  test("nothing changed: every account is reused and nothing differs", () => {
    // GIVEN an output synthesized with a record
    const config = parse(generated(3, 4).raw, generated(3, 4).lock);
    incrementalSynth(config, outdir, cacheDir);
    const before = treeOf(outdir);
    // WHEN the same config is synthesized again
    const result = incrementalSynth(config, outdir, cacheDir);
    // THEN all of it is reused and the files are the same
    expect(result.reused).toEqual(config.accounts.map((a) => a.name));
    expect(treeOf(outdir)).toEqual(before);
  });

  test("every kind of edit: after each, the output equals a full synth of the edited config", () => {
    everyEditKind({ accounts: 2, roles: 2 }, outdir, cacheDir);
  });

  test("state in S3 and an extension: after each edit the output equals a full synth of it", () => {
    stateEditsWithExtension({ accounts: 2, roles: 3 }, outdir, cacheDir);
  });

  test("a run with an extension drops the records: the next run without it reuses nothing", () => {
    // GIVEN an output synthesized with a record, then with an extension
    const config = parse(generated(2, 3).raw, generated(2, 3).lock);
    incrementalSynth(config, outdir, cacheDir);
    expect(readdirSync(cacheDir)).not.toEqual([]);
    incrementalSynth(config, outdir, cacheDir, policyExtension("a"));
    // THEN no record is left
    expect(readdirSync(cacheDir)).toEqual([]);
    // AND the next run without the extension synthesizes every stack, as a full synth does
    expect(incrementalSynth(config, outdir, cacheDir).reused).toEqual([]);
    expect(treeOf(outdir)).toEqual(fullSynthTree(config));
  });

  describe("falls back to synthesizing, never to stale output", () => {
    let config: Config;
    let recordDir: string;
    /** The first account's record file. */
    let recordFile: string;
    beforeEach(() => {
      const { raw, lock } = generated(2, 3);
      config = parse(raw, lock);
      incrementalSynth(config, outdir, cacheDir);
      recordDir = recordDirFor(cacheDir, outdir, true);
      recordFile = stackRecordFile(recordDir, config.accounts[0].name);
    });
    /** Rewrites a record file's body through `edit`, with a valid checksum. */
    const rewrite = (file: string, edit: (body: string) => string) => {
      const body = readFileSync(file, "utf8").split("\n").slice(1).join("\n");
      const changed = edit(body);
      expect(changed).not.toBe(body);
      const { createHash } = jest.requireActual<typeof import("node:crypto")>("node:crypto");
      writeFileSync(file, `${createHash("sha256").update(changed).digest("hex")}\n${changed}`);
    };

    test("a damaged record: that stack is synthesized", () => {
      // GIVEN the first stack's record with one character changed after its checksum line
      const text = readFileSync(recordFile, "utf8");
      const at = text.indexOf('"input":"') + 9;
      writeFileSync(recordFile, text.slice(0, at) + (text[at] === "0" ? "1" : "0") + text.slice(at + 1));
      // WHEN the config is synthesized again
      const result = incrementalSynth(config, outdir, cacheDir);
      // THEN that stack is not reused, and the output is a full synth's
      expect(result.reused).toEqual([config.accounts[1].name]);
      expect(treeOf(outdir)).toEqual(fullSynthTree(config));
    });

    test("a record written for another output directory or another stack is not reused", () => {
      // GIVEN another output directory with the first one's records in its place
      const other = join(root, "other");
      incrementalSynth(config, other, cacheDir);
      const otherDir = recordDirFor(cacheDir, other, true);
      for (const account of config.accounts) {
        writeFileSync(
          stackRecordFile(otherDir, account.name),
          readFileSync(stackRecordFile(recordDir, account.name)),
        );
      }
      // AND in the first, the second stack's record in the first stack's place
      writeFileSync(recordFile, readFileSync(stackRecordFile(recordDir, config.accounts[1].name)));
      // THEN the first output reuses only the second stack
      expect(incrementalSynth(config, outdir, cacheDir).reused).toEqual([config.accounts[1].name]);
      // WHEN that one is synthesized again
      // THEN nothing is reused
      expect(incrementalSynth(config, other, cacheDir).reused).toEqual([]);
    });

    test("a hand-edited stack file is synthesized again, and the edit is gone", () => {
      // GIVEN one stack's cdk.tf edited by hand after the synth
      const name = config.accounts[0].name;
      const file = join(outdir, "stacks", name, "cdk.tf");
      const original = readFileSync(file, "utf8");
      writeFileSync(file, original.replace("gitlab", "GITLAB"));
      // WHEN the same config is synthesized again
      const result = incrementalSynth(config, outdir, cacheDir);
      // THEN that stack is synthesized again and the file is back to the synth's bytes
      expect(result.reused).toEqual([config.accounts[1].name]);
      expect(readFileSync(file, "utf8")).toBe(original);
    });

    test("a stack file replaced by a symlink to the same bytes is written again as a file", () => {
      // GIVEN one stack's cdk.tf moved elsewhere and a symlink to it in its place
      const name = config.accounts[0].name;
      const file = join(outdir, "stacks", name, "cdk.tf");
      const elsewhere = join(root, "elsewhere.tf");
      renameSync(file, elsewhere);
      symlinkSync(elsewhere, file);
      // WHEN the same config is synthesized again
      const result = incrementalSynth(config, outdir, cacheDir);
      // THEN that stack is synthesized again: a regular file, as a full synth leaves it
      expect(result.reused).toEqual([config.accounts[1].name]);
      expect(lstatSync(file).isFile()).toBe(true);
    });

    test("a record naming files another stack may not write is not reused", () => {
      // GIVEN the record of the first stack listing, with its true digest, a file outside its folder in
      // place of its metadata.json (checksum made valid)
      const name = config.accounts[0].name;
      const access = sha256Hex(readFileSync(join(outdir, "ACCESS.md")));
      rewrite(recordFile, (body) =>
        body.replace(new RegExp(`"stacks/${name}/metadata.json":"[0-9a-f]{64}"`), `"ACCESS.md":"${access}"`),
      );
      // WHEN the config is synthesized again
      // THEN that stack is synthesized again, and the output is a full synth's
      expect(incrementalSynth(config, outdir, cacheDir).reused).toEqual([config.accounts[1].name]);
      expect(treeOf(outdir)).toEqual(fullSynthTree(config));
    });

    test("a record from another version of the tool (its input hashes differ): every account is synthesized", () => {
      // GIVEN records whose input hashes are another tool's (checksums made valid again)
      for (const account of config.accounts) {
        rewrite(stackRecordFile(recordDir, account.name), (body) =>
          body.replace(/"input":"[0-9a-f]{64}"/g, `"input":"${"a".repeat(64)}"`),
        );
      }
      // WHEN the config is synthesized again
      // THEN nothing is reused
      expect(incrementalSynth(config, outdir, cacheDir).reused).toEqual([]);
    });
  });

  test("the record directory keeps a bounded number of records", () => {
    // GIVEN more output directories synthesized with the same record directory than it keeps records
    // AND a directory of something else in it (the tests' shared synths once lived there)
    const config = parse(generated(1, 1).raw, generated(1, 1).lock);
    mkdirSync(join(cacheDir, "example-0123"), { recursive: true });
    for (let i = 0; i < KEPT_RECORDS + 3; i++) incrementalSynth(config, join(root, `out-${i}`), cacheDir);
    // THEN only the newest records are kept, and the other directory is left alone
    expect(readdirSync(cacheDir).filter((name) => name !== "example-0123").length).toBe(KEPT_RECORDS);
    expect(existsSync(join(cacheDir, "example-0123"))).toBe(true);
  });
});

describe("a stack's inputs", () => {
  test("hold only the lock entries its own grants name", () => {
    // GIVEN two accounts whose roles name different projects
    const { raw, lock } = generated(2, 2);
    const config = parse(raw, lock);
    // WHEN the first account's stack inputs are taken
    const inputs = stackInputs(config, config.accounts[0]);
    // THEN its lock slice has its own projects and no project only the other account names
    const own = config.accounts[0].roles.flatMap((r) =>
      r.allow.flatMap((g) => (g.project ? [g.project] : [])),
    );
    const other = config.accounts[1].roles.flatMap((r) =>
      r.allow.flatMap((g) => (g.project ? [g.project] : [])),
    );
    expect(Object.keys(inputs.lock!.projects).sort()).toEqual([...new Set(own)].sort());
    expect(other.filter((p) => !own.includes(p)).some((p) => Object.hasOwn(inputs.lock!.projects, p))).toBe(
      false,
    );
  });

  test("hashing refuses what it cannot see into, rather than hashing it as {}", () => {
    expect(() => canonicalText({ a: new Map([["k", 1]]) })).toThrow(/cannot hash a Map/);
    expect(canonicalText({ a: undefined })).not.toBe(canonicalText({}));
  });

  test("hashing tells apart what JSON would not, though plain data is hashed as its JSON", () => {
    // GIVEN values JSON.stringify renders alike (the hash takes JSON's text for plain data only)
    const alike: [unknown, unknown][] = [
      [[undefined], [null]],
      [
        // eslint-disable-next-line no-sparse-arrays
        [1, , 2],
        [1, null, 2],
      ],
      [{ a: -0 }, { a: 0 }],
      [{ a: NaN }, { a: null }],
      [{ a: Infinity }, { a: null }],
    ];
    // THEN each pair hashes apart, and plain data's text is its JSON
    for (const [a, b] of alike) expect(canonicalText(a)).not.toBe(canonicalText(b));
    expect(() => canonicalText({ a: { toJSON: () => 1 } })).toThrow(/cannot hash a function/);
    const plain = {
      b: [1, "x\u2028", { c: null, d: true }],
      a: Object.assign(Object.create(null), { e: 2 }),
    };
    expect(canonicalText(plain)).toBe(JSON.stringify(plain));
  });
});

describe("a run whose raw inputs are unchanged (the main job's up-to-date check)", () => {
  let configFile: string;
  let lockFile: string;
  const synthWithKey = () => {
    const config = parse(
      parseYaml(readFileSync(configFile, "utf8")) as RawConfig,
      parseLock(readFileSync(lockFile, "utf8"), lockFile),
    );
    return synthesize(config, { outdir, hcl: true, cacheDir, runKey: runKeyOf(configFile, lockFile, true)! });
  };
  const check = (settleMs?: number) =>
    upToDate(cacheDir, outdir, true, runKeyOf(configFile, lockFile, true)!, settleMs);
  beforeEach(() => {
    configFile = join(root, "gitlab-oidc.yaml");
    lockFile = join(root, "gitlab-oidc.lock.yaml");
    writeFileSync(configFile, generateConfig(2, 3));
    writeFileSync(lockFile, generateLock(2, 3));
    synthWithKey();
  });

  test("is up to date after a synth, with what that synth reported", () => {
    expect(check()).toEqual({ stacks: ["acct-001", "acct-002"], roles: 6 });
  });

  test("is not up to date once the config, the lock or the output changed", () => {
    // GIVEN the config's comment changed by one letter (same meaning, same length, other bytes)
    writeFileSync(configFile, readFileSync(configFile, "utf8").replace("# Generated", "# generated"));
    // THEN the run is not skipped
    expect(check()).toBeUndefined();
    // GIVEN it synthesized again, then a lock ID changed
    synthWithKey();
    expect(check()).toBeDefined();
    writeFileSync(
      lockFile,
      readFileSync(lockFile, "utf8").replace(/id: (\d+)/, (_, id: string) => `id: ${Number(id) + 1}`),
    );
    expect(check()).toBeUndefined();
    // GIVEN it synthesized again, then ACCESS.md edited by hand (not a stack file)
    synthWithKey();
    expect(check()).toBeDefined();
    writeFileSync(join(outdir, "ACCESS.md"), `${readFileSync(join(outdir, "ACCESS.md"), "utf8")}\nedited\n`);
    expect(check()).toBeUndefined();
  });

  test("a file rewritten with its size, inode and mtime kept is read again, though its signature was kept", () => {
    // GIVEN ACCESS.md's mtime on a whole second (so that it can be set back exactly), and a check that
    // read every file and kept their stat signatures (all settled: a settle time a minute ahead, so
    // that a ctime in the millisecond of the check counts too)
    const file = join(outdir, "ACCESS.md");
    const second = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000);
    utimesSync(file, second, second);
    expect(check(-60_000)).toBeDefined();
    expect(readRunRecord(recordDirFor(cacheDir, outdir, true), outdir)?.stats).toHaveProperty(["ACCESS.md"]);
    expect(check(-60_000)).toBeDefined();
    // WHEN ACCESS.md is rewritten in place with other bytes of the same length, its mtime set back
    const text = readFileSync(file, "utf8");
    writeFileSync(file, text.replace("# Access report", "# Access REPORT"));
    utimesSync(file, second, second);
    expect(statSync(file, { bigint: true }).mtimeNs).toBe(BigInt(second.getTime()) * 1_000_000n);
    // THEN the run is not up to date: the ctime moved, so the file was read again
    expect(check(0)).toBeUndefined();
  });

  test("stat signatures are kept across synths only for files whose bytes did not change", () => {
    // GIVEN signatures kept by a check (every file settled)
    expect(check(-60_000)).toBeDefined();
    // WHEN a role changes and the config is synthesized again
    writeFileSync(
      configFile,
      readFileSync(configFile, "utf8").replace("description: Deploys", "description: Ships"),
    );
    synthWithKey();
    // THEN the new run record keeps no signature of a file whose bytes changed
    const dir = recordDirFor(cacheDir, outdir, true);
    const run = readRunRecord(dir, outdir)!;
    expect(Object.keys(run.stats ?? {})).not.toContain("ACCESS.md");
    expect(Object.keys(run.stats ?? {}).length).toBeGreaterThan(0);
    // AND the output is still up to date
    expect(check(0)).toBeDefined();
  });

  test("files written just before a check settle by the filesystem's clock, a tick later, not after 2 s", () => {
    // GIVEN a synth that has just written every file (their ctimes are well within SETTLE_MS), and the
    // filesystem's clock one tick past them (a coarse clock's tick is a few milliseconds)
    const synthesized = readRunRecord(recordDirFor(cacheDir, outdir, true), outdir)!;
    waitForFilesystemTick(
      recordDirFor(cacheDir, outdir, true),
      Object.keys(synthesized.files).map((file) => join(outdir, file)),
    );
    // WHEN the up-to-date check runs with the default settle time
    expect(check()).toBeDefined();
    // THEN it kept the signature of every file it read: a probe of the filesystem's clock, read before
    // the files' stats, was later than each file's ctime
    const run = readRunRecord(recordDirFor(cacheDir, outdir, true), outdir)!;
    expect(Object.keys(run.stats ?? {}).sort()).toEqual(Object.keys(run.files).sort());
    // AND the next check keeps them (settled signatures of recent files are not dropped) without
    // writing the run record again
    const runFile = join(recordDirFor(cacheDir, outdir, true), "run.json");
    const written = statSync(runFile, { bigint: true }).ctimeNs;
    expect(check()).toBeDefined();
    expect(readRunRecord(recordDirFor(cacheDir, outdir, true), outdir)!.stats).toEqual(run.stats);
    expect(statSync(runFile, { bigint: true }).ctimeNs).toBe(written);
    // AND the probe file is gone
    expect(
      readdirSync(recordDirFor(cacheDir, outdir, true)).filter((name) => name.includes("probe")),
    ).toEqual([]);
  });

  test("is not up to date after a synth without a key (a run that read its config otherwise)", () => {
    // GIVEN the same output synthesized again without a run key
    synthesize(parse(generated(2, 3).raw, generated(2, 3).lock), { outdir, hcl: true, cacheDir });
    // THEN the next run with a key is not skipped
    expect(check()).toBeUndefined();
  });
});

describe("when a stat signature may stand for the bytes read after it (settles)", () => {
  const instant = { dev: 7n, ctimeNs: 5_000_000_000n };
  test("a ctime older than the settle time settles, on any device", () => {
    expect(settles({ dev: 9n, ctimeNs: 999n }, 1000n)).toBe(true);
    expect(settles({ dev: 9n, ctimeNs: 1000n }, 1000n)).toBe(false);
  });
  test("a ctime strictly earlier than the probe's on the same device settles", () => {
    expect(settles({ dev: 7n, ctimeNs: 4_999_999_999n }, 0n, instant)).toBe(true);
  });
  test("a ctime in the probe's tick, or on another device, does not", () => {
    // The same tick: a later change could keep that ctime.
    expect(settles({ dev: 7n, ctimeNs: 5_000_000_000n }, 0n, instant)).toBe(false);
    // Another filesystem has another clock (and maybe another granularity).
    expect(settles({ dev: 8n, ctimeNs: 1n }, 0n, instant)).toBe(false);
  });
  test("the probe reads the clock of the directory's filesystem and leaves nothing behind", () => {
    const dir = mkdtempSync(join(tmpdir(), "probe-"));
    const before = statSync(dir, { bigint: true });
    const probed = filesystemInstant(dir)!;
    expect(probed.dev).toBe(before.dev);
    expect(probed.ctimeNs).toBeGreaterThanOrEqual(before.ctimeNs);
    expect(readdirSync(dir)).toEqual([]);
    // A directory that does not exist has no clock to read.
    expect(filesystemInstant(join(dir, "missing"))).toBeUndefined();
    rmSync(dir, { recursive: true, force: true });
  });
});
