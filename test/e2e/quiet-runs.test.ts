/**
 * Normal runs print no warnings: each command spawned as its npm script runs it (`node scripts/build.mjs
 * --run <entry point>`), on this machine's Node. (`scripts/test-node-versions.mjs` does the same on Node 22 and 24, where cdktf's
 * `util.isArray` call would print DEP0044 without src/runtime/entry.ts.) A command added later (resolve,
 * audit) adds its row here.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EXAMPLE_FIXTURE, synthesizedExample } from "../support/example";

const ROOT = join(__dirname, "..", "..");
/** A line Node prints for a process warning: `(node:1234) [DEP0044] DeprecationWarning: …`. */
const WARNING_LINE = /^\(node:\d+\) (\[\w+\] )?\w*Warning: /m;

let scratch: string;
let example: { dir: string };
beforeAll(async () => {
  example = await synthesizedExample();
  execFileSync(process.execPath, [join(ROOT, "scripts", "build.mjs")], { cwd: ROOT });
  scratch = mkdtempSync(join(tmpdir(), "gitlab-oidc-quiet-"));
  mkdirSync(join(scratch, "schema"));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

interface EntryPoint {
  readonly script: string;
  readonly args: () => string[];
  readonly cwd?: () => string;
  readonly env?: () => NodeJS.ProcessEnv;
  /** Exit codes of a normal run. */
  readonly codes: number[];
  /** What the run must have done, so a row cannot pass by exiting early. */
  readonly did: (stdout: string) => void;
}

const ENTRY_POINTS: Record<string, EntryPoint> = {
  "npm run synth": {
    script: "scripts/build.mjs",
    args: () => ["--run", "dist/main.js"],
    env: () => ({ GITLAB_OIDC_CONFIG: EXAMPLE_FIXTURE, CDKTF_OUTDIR: join(scratch, "out") }),
    codes: [0],
    did: () =>
      expect(readFileSync(join(scratch, "out", "stacks", "production", "cdk.tf"), "utf8")).toBe(
        readFileSync(join(example.dir, "stacks", "production", "cdk.tf"), "utf8"),
      ),
  },
  "npm run explain": {
    script: "scripts/build.mjs",
    args: () => [
      "--run",
      "dist/src/explain/cli.js",
      "--project",
      "acme/web",
      "--branch",
      "main",
      "--dir",
      example.dir,
    ],
    codes: [0, 3, 4],
    did: (stdout) => expect(stdout).toMatch(/ALLOWED|DENIED/),
  },
  "npm run resolve -- --help": {
    // (a real resolve needs GitLab's API; its help still loads the command's modules)
    script: "scripts/build.mjs",
    args: () => ["--run", "dist/src/gitlab/cli.js", "--help"],
    codes: [0],
    did: (stdout) => expect(stdout).toContain("Usage: npm run resolve"),
  },
  "npm run audit": {
    script: "scripts/build.mjs",
    args: () => [
      "--run",
      "dist/src/audit/cli.js",
      join(ROOT, "test", "fixtures", "audit", "account-authorization-details.json"),
    ],
    codes: [0, 1],
    did: (stdout) => expect(stdout).toMatch(/gitlab/i),
  },
  "npm run init": {
    script: "scripts/build.mjs",
    args: () => ["--run", "dist/src/init/cli.js"],
    cwd: () => scratch,
    codes: [0],
    did: (stdout) => expect(stdout).toMatch(/^Wrote gitlab-oidc\.yaml from /),
  },
  "npm run schema": {
    script: "scripts/build.mjs",
    args: () => ["--run", "dist/src/config/json-schema.js"],
    cwd: () => scratch,
    codes: [0],
    did: () =>
      expect(readFileSync(join(scratch, "schema", "gitlab-oidc.schema.json"), "utf8")).toBe(
        readFileSync(join(ROOT, "schema", "gitlab-oidc.schema.json"), "utf8"),
      ),
  },
};

test.each(Object.keys(ENTRY_POINTS))(`%s prints no warning on Node ${process.version}`, (name) => {
  // GIVEN the command's entry point and a normal run's arguments
  const entry = ENTRY_POINTS[name];
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_OPTIONS: "", ...entry.env?.() };
  delete env.SYNTH_HCL_OUTPUT;
  // WHEN it runs
  const run = spawnSync(process.execPath, [join(ROOT, entry.script), ...entry.args()], {
    cwd: entry.cwd?.() ?? ROOT,
    env,
    encoding: "utf8",
  });
  // THEN it succeeds and nothing on stderr is a warning
  expect(entry.codes).toContain(run.status);
  expect(run.stderr).not.toMatch(WARNING_LINE);
  expect(run.stdout).not.toMatch(WARNING_LINE);
  entry.did(run.stdout);
});
