/**
 * TEST SUPPORT: the main job's bundle (dist/bundle/main.js) against its per-file build
 * (dist/main.unbundled.js) on one config, each into its own directory of a scratch directory: exit code,
 * messages and every file written. test/e2e/bundle.test.ts compares the example, the kitchen sink, an
 * adopted account and broken YAML; test/slow/bundle-breadth.test.ts every other config and problem.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { filesUnder } from "./configs";
import { run, runOk } from "./run";

export const ROOT = join(__dirname, "..", "..");
export const CONFIGS = join(ROOT, "test", "fixtures", "configs");
export const BUNDLE = join(ROOT, "dist", "bundle", "main.js");
export const UNBUNDLED = join(ROOT, "dist", "main.unbundled.js");

/** What one build did on one config: exit code, messages (the output directory as `<outdir>`), files. */
export interface BuildRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly files: Record<string, string>;
}

/** A scratch directory for the test file, made after `dist/` is built and removed after the file. */
export function useBuiltScratch(): { readonly dir: string } {
  const scratch = { dir: "" };
  beforeAll(() => {
    runOk(process.execPath, [join(ROOT, "scripts", "build.mjs")], { timeoutMs: 60_000 });
    scratch.dir = mkdtempSync(join(tmpdir(), "gitlab-oidc-bundle-"));
  });
  afterAll(() => rmSync(scratch.dir, { recursive: true, force: true }));
  return scratch;
}

/** Runs one build of the main job (`script`) on `config` into `<scratch>/<label>`, with `env` added. */
export function synth(
  scratch: string,
  script: string,
  config: string,
  label: string,
  env: NodeJS.ProcessEnv = {},
): BuildRun {
  const outdir = join(scratch, label);
  const result = run(process.execPath, [script], {
    cwd: ROOT,
    env: { ...process.env, NODE_OPTIONS: "", GITLAB_OIDC_CONFIG: config, CDKTF_OUTDIR: outdir, ...env },
    timeoutMs: 60_000,
  });
  let files: Record<string, string> = {};
  try {
    files = Object.fromEntries(filesUnder(outdir).map((f) => [f, readFileSync(join(outdir, f), "utf8")]));
  } catch {
    // nothing written
  }
  const text = (s: string) => s.split(outdir).join("<outdir>");
  return { status: result.status, stdout: text(result.stdout), stderr: text(result.stderr), files };
}

/** Both builds on `config`, labelled `label`: the bundle's run and the per-file build's. */
export function bothBuilds(
  scratch: string,
  config: string,
  label: string,
  env: NodeJS.ProcessEnv = {},
): [BuildRun, BuildRun] {
  const name = label.replace(/\W+/g, "-");
  return [
    synth(scratch, BUNDLE, config, `${name}-bundle`, env),
    synth(scratch, UNBUNDLED, config, `${name}-unbundled`, env),
  ];
}

/** A config that synthesizes: both builds succeed alike, with the same files, contents and messages. */
export function expectSameSynth(
  scratch: string,
  config: string,
  label: string,
  env: NodeJS.ProcessEnv = {},
): BuildRun {
  const [bundled, unbundled] = bothBuilds(scratch, config, label, env);
  expect(unbundled.status).toBe(0);
  expect(Object.keys(bundled.files).length).toBeGreaterThan(3);
  expect(bundled).toEqual(unbundled);
  return bundled;
}

/** A config with a problem: both builds refuse it alike, naming the file, and write nothing. */
export function expectSameRefusal(scratch: string, config: string, label: string): void {
  const [bundled, unbundled] = bothBuilds(scratch, config, label);
  expect(bundled.status).toBe(1);
  expect(bundled.stderr).toMatch(/problems? in .*\.yaml; nothing was written/);
  expect(bundled.files).toEqual({});
  expect(bundled).toEqual(unbundled);
}
