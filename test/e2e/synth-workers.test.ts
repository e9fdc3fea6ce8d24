/**
 * Stacks synthesized in worker threads (src/synth-workers.ts) are byte for byte those one thread writes,
 * with records a later run reuses; a failing stack or worker fails the run with its reason and leaves the
 * output as it was. The workers run the built main job (dist/main.js, as `npm run synth` starts them),
 * this thread the sources: the same code, one build.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { loadConfigFile } from "../../src/config/load";
import type { Config } from "../../src/config/schema";
import { serializeLock } from "../../src/gitlab/lock";
import { synthesize, synthesizeInParallel, type SynthOptions } from "../../src/synth";
import { SYNTH_WORKER_ARG } from "../../src/synth-workers";
import { filesUnder, lockFor, minimalConfig, parse, type RawConfig } from "../support/configs";
import { run, runOk } from "../support/run";

const ROOT = join(__dirname, "..", "..");
const CONFIGS = join(ROOT, "test", "fixtures", "configs");
const LAUNCHER = join(ROOT, "dist", "main.js");

let scratch: string;
beforeAll(() => {
  runOk(process.execPath, [join(ROOT, "scripts", "build.mjs")], { timeoutMs: 60_000 });
  scratch = mkdtempSync(join(tmpdir(), "gitlab-oidc-workers-"));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

let runs = 0;
const freshDir = (label: string) => join(scratch, `${label}-${++runs}`);

/** Path → content of every file under `dir`. */
function tree(dir: string): Record<string, string> {
  return Object.fromEntries(filesUnder(dir).map((file) => [file, readFileSync(join(dir, file), "utf8")]));
}

/** Two workers and no stack in this thread: every stack is a worker's. */
const inWorkersOnly = { workerScript: LAUNCHER, workers: 2, inThisThread: false } as const;

/**
 * Four accounts whose grants name groups called like members of Object.prototype: the lock slice a
 * worker gets has lost its null prototype on the way (structured clone) and must not read them.
 */
function hostileNamesConfig(): { raw: RawConfig; config: Config } {
  const raw = minimalConfig();
  const base = (raw.accounts as RawConfig[])[0]!;
  raw.accounts = ["constructor", "toString", "hasOwnProperty", "valueOf"].map((group, i) => ({
    ...base,
    name: `acct-${i}`,
    accountId: String(111111111111 + i),
    roles: [
      {
        name: `deploy-${i}`,
        allow: [
          { group, branches: ["main"] },
          { project: `${group}/web`, tags: ["v*"] },
        ],
      },
    ],
  }));
  return { raw, config: parse(raw) };
}

const fixtureConfigs = readdirSync(CONFIGS)
  .filter((name) => name.endsWith(".yaml") && !name.endsWith(".lock.yaml"))
  .map((name): [string, () => Config] => [name, () => loadConfigFile(join(CONFIGS, name))]);

test.each<[string, () => Config]>([
  ["groups named constructor, toString, hasOwnProperty, valueOf", () => hostileNamesConfig().config],
  ...fixtureConfigs,
])("%s: stacks synthesized by workers are byte for byte one thread's", async (_, load) => {
  // GIVEN a config, synthesized in this thread
  const config = load();
  const cacheDir = freshDir("cache");
  const one = freshDir("one");
  synthesize(config, { outdir: one, hcl: true });
  // WHEN worker threads synthesize every stack of it
  const two = freshDir("workers");
  const options: SynthOptions = { outdir: two, hcl: true, cacheDir };
  const result = await synthesizeInParallel(config, { ...options, ...inWorkersOnly });
  // THEN the same files, byte for byte
  expect(result.reused).toEqual([]);
  expect(tree(two)).toStrictEqual(tree(one));
  // AND their records stand for them: the next run reuses every stack and writes the same bytes
  const again = synthesize(config, options);
  expect(again.reused).toEqual(again.stacks);
  expect(tree(two)).toStrictEqual(tree(one));
});

test("GIVEN JSON output WHEN workers synthesize THEN the same files as one thread", async () => {
  const { config } = hostileNamesConfig();
  const one = freshDir("json-one");
  const two = freshDir("json-workers");
  synthesize(config, { outdir: one, hcl: false });
  await synthesizeInParallel(config, { outdir: two, hcl: false, ...inWorkersOnly });
  expect(tree(two)).toStrictEqual(tree(one));
});

describe("failures", () => {
  /** An output directory holding an earlier synth, and its files. */
  function earlierOutput(config: Config): { outdir: string; before: Record<string, string> } {
    const outdir = freshDir("earlier");
    synthesize(config, { outdir, hcl: true });
    return { outdir, before: tree(outdir) };
  }

  test("GIVEN a stack that fails in a worker THEN the run fails with that stack's error, as in one thread, and the output stays", async () => {
    // GIVEN a config object (not read from a file) with a role the role construct refuses
    const { config } = hostileNamesConfig();
    const { outdir, before } = earlierOutput(config);
    const broken = structuredClone(config) as { accounts: { roles: { allow: unknown[] }[] }[] };
    broken.accounts[2]!.roles[0]!.allow = [{ project: "acme*", branches: ["main"] }];
    const invalid = broken as unknown as Config;
    let oneThread: Error | undefined;
    try {
      synthesize(invalid, { outdir: freshDir("broken-one"), hcl: true });
    } catch (error) {
      oneThread = error as Error;
    }
    expect(oneThread?.message).toMatch(/deploy-2\.allow\[0\]\.project: wildcards are not allowed/);
    // WHEN workers synthesize it into the earlier output
    // THEN the same message, and nothing of the earlier output changed
    await expect(synthesizeInParallel(invalid, { outdir, hcl: true, ...inWorkersOnly })).rejects.toThrow(
      oneThread!.message,
    );
    expect(tree(outdir)).toStrictEqual(before);
  });

  test("GIVEN a worker that cannot start THEN the run fails saying so and how to synthesize in one thread", async () => {
    const { config } = hostileNamesConfig();
    const { outdir, before } = earlierOutput(config);
    const script = join(scratch, "broken-worker.js");
    writeFileSync(script, 'throw new Error("no such build");\n');
    await expect(
      synthesizeInParallel(config, { outdir, hcl: true, ...inWorkersOnly, workerScript: script }),
    ).rejects.toThrow(
      /a worker thread stopped before it finished \(no such build\); GITLAB_OIDC_SYNTH_WORKERS=0 synthesizes in one thread/,
    );
    expect(tree(outdir)).toStrictEqual(before);
  });
});

describe("the main job (node dist/main.js)", () => {
  /** A config file with its lock in a directory of its own. */
  function configFile(raw: RawConfig): string {
    const dir = freshDir("config");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "gitlab-oidc.yaml"), stringify(raw));
    writeFileSync(join(dir, "gitlab-oidc.lock.yaml"), serializeLock(lockFor(raw)));
    return join(dir, "gitlab-oidc.yaml");
  }

  function mainJob(config: string, outdir: string, workers: string) {
    return run(process.execPath, [LAUNCHER], {
      cwd: ROOT,
      env: {
        ...process.env,
        NODE_OPTIONS: "",
        GITLAB_OIDC_CONFIG: config,
        CDKTF_OUTDIR: outdir,
        GITLAB_OIDC_FULL_SYNTH: "1",
        GITLAB_OIDC_SYNTH_WORKERS: workers,
      },
      timeoutMs: 60_000,
    });
  }

  test("GIVEN GITLAB_OIDC_SYNTH_WORKERS=2 THEN the same output and message as with 0", () => {
    const config = configFile(hostileNamesConfig().raw);
    const [one, two] = [freshDir("cli-one"), freshDir("cli-two")];
    const single = mainJob(config, one, "0");
    const parallel = mainJob(config, two, "2");
    expect(single.status).toBe(0);
    expect(parallel.status).toBe(0);
    expect(parallel.stdout.split(two).join("<out>")).toBe(single.stdout.split(one).join("<out>"));
    expect(parallel.stderr).toBe(single.stderr);
    expect(tree(two)).toStrictEqual(tree(one));
  });

  test("GIVEN the workers' own argument on the main thread THEN exit 2 saying it is no worker thread", () => {
    const result = run(process.execPath, [LAUNCHER, SYNTH_WORKER_ARG], { cwd: ROOT, timeoutMs: 60_000 });
    expect(result.status).toBe(2);
    expect(result.stderr).toBe(`${SYNTH_WORKER_ARG}: not a synth worker thread\n`);
  });

  test("GIVEN GITLAB_OIDC_SYNTH_WORKERS=many THEN exit 2 naming the setting, nothing written", () => {
    const config = configFile(hostileNamesConfig().raw);
    const outdir = freshDir("cli-bad");
    const result = mainJob(config, outdir, "many");
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(
      /^GITLAB_OIDC_SYNTH_WORKERS="many": expected a whole number of worker threads from 0 \(one thread\) to 64\n$/,
    );
    expect(() => readdirSync(outdir)).toThrow(/ENOENT/);
  });
});
