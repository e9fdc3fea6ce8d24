/**
 * jest's global set-up, once per run before any test file: builds dist/ (the entry points the tests
 * start), then synthesizes the shared fixture configs once, cached under node_modules/.cache by a hash
 * of everything the output depends on (the fixture, the sources, the locked dependencies). Test files
 * copy the cached output (test/support/explain-fixture.ts) instead of synthesizing the same config
 * again; workers find it through GITLAB_OIDC_TEST_SYNTHS ({"name": "<dir>"}, inherited from here).
 * First, it gives the run its own temporary directory (TMPDIR, ./scratch-dir.cjs).
 */
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
} from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { makeScratch, pruneStaleScratch, scratchParent } from "./scratch-dir.cjs";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
/**
 * Where shared synths are kept; TEST_SYNTH_CACHE moves it (scripts/mutations.mjs: a copy's own). Not the
 * main job's record directory (node_modules/.cache/gitlab-oidc-aws/synth), which it prunes.
 */
const CACHE =
  process.env.TEST_SYNTH_CACHE || join(ROOT, "node_modules", ".cache", "gitlab-oidc-aws", "test-synths");
/** A hung build or synth fails the run with its output instead of hanging it. */
const DEADLINE_MS = 120_000;

/** The shared synths: each a config file whose lock lies beside it (src/gitlab/lock.ts names it). */
const SHARED = {
  explain: join(ROOT, "test", "fixtures", "explain", "gitlab-oidc.yaml"),
  example: join(ROOT, "test", "fixtures", "configs", "example.yaml"),
};

/** What a synth's output depends on, besides the fixture itself. */
const INPUTS = ["main.ts", "src", "stacks", "package-lock.json", "scripts/build.mjs", "scripts/bundle.mjs"];

function* files(path) {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (!stat) return;
  if (!stat.isDirectory()) return yield path;
  for (const entry of readdirSync(path).sort()) yield* files(join(path, entry));
}

/** sha256 over the relative paths and contents of the inputs and the fixture's directory, in a fixed order. */
function inputHash(configFile) {
  const hash = createHash("sha256");
  for (const input of [...INPUTS.map((p) => join(ROOT, p)), dirname(configFile)]) {
    for (const file of files(input)) hash.update(`${relative(ROOT, file)}\0`).update(readFileSync(file));
  }
  return hash.digest("hex").slice(0, 16);
}

function failure(what, status, output) {
  return new Error(`global set-up: ${what} exited ${status}; its output ends:\n${output.slice(-4000)}`);
}

/** `node dist/main.js` on the config into outdir, HCL or JSON; rejects with its output on failure. */
function synth(configFile, outdir, hcl) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, "dist", "main.js")], {
      cwd: ROOT,
      env: {
        ...process.env,
        GITLAB_OIDC_CONFIG: configFile,
        CDKTF_OUTDIR: outdir,
        SYNTH_HCL_OUTPUT: String(hcl),
      },
      timeout: DEADLINE_MS,
      killSignal: "SIGKILL",
    });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    child.on("error", reject);
    child.on("exit", (status) => {
      if (status === 0) resolve();
      else reject(failure(`node dist/main.js (${configFile}, ${hcl ? "HCL" : "JSON"})`, status, output));
    });
  });
}

/** The cached synth of one fixture (HCL in terraform/, JSON in terraform-json/), made if missing. */
async function sharedSynth(name, configFile) {
  const hash = inputHash(configFile);
  const dir = join(CACHE, `${name}-${hash}`);
  if (existsSync(dir)) return dir;
  mkdirSync(CACHE, { recursive: true });
  const staging = mkdtempSync(join(CACHE, `.${name}-`));
  try {
    await Promise.all([
      synth(configFile, join(staging, "terraform"), true),
      synth(configFile, join(staging, "terraform-json"), false),
    ]);
    // Older outputs of this fixture are stale: the inputs changed.
    // (Never the target itself: a parallel run may have made it meanwhile and be reading it.)
    const target = `${name}-${hash}`;
    for (const old of readdirSync(CACHE).filter((e) => e.startsWith(`${name}-`) && e !== target)) {
      rmSync(join(CACHE, old), { recursive: true, force: true });
    }
    try {
      renameSync(staging, dir);
    } catch (error) {
      if (!existsSync(dir)) throw error; // a parallel run made the same one meanwhile: use it
    }
    return dir;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

export default async function globalSetup() {
  // This run's temporary directory, for every test file and the tools they start (./scratch-dir.cjs);
  // chosen before anything below starts a child, so that they use it too.
  // (The TMPDIR before it is kept for the teardown to put back: jest --watch runs this again.)
  process.env.GITLAB_OIDC_TEST_TMPDIR_BEFORE = process.env.TMPDIR ?? "";
  const parent = scratchParent();
  pruneStaleScratch(parent);
  const scratch = makeScratch(parent);
  process.env.GITLAB_OIDC_TEST_SCRATCH = scratch;
  process.env.TMPDIR = scratch;
  const build = spawnSync(process.execPath, [join(ROOT, "scripts", "build.mjs")], {
    cwd: ROOT,
    encoding: "utf8",
    timeout: DEADLINE_MS,
    killSignal: "SIGKILL",
  });
  if (build.status !== 0) {
    throw failure("node scripts/build.mjs", build.status, `${build.stdout}${build.stderr}`);
  }
  const synths = Object.fromEntries(
    await Promise.all(
      Object.entries(SHARED).map(async ([name, file]) => [name, await sharedSynth(name, file)]),
    ),
  );
  process.env.GITLAB_OIDC_TEST_SYNTHS = JSON.stringify(synths);
}
