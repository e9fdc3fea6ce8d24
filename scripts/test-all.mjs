// `npm run test:all` after the installer (scripts/ensure-test-tools.sh): every part of the test command
// once, then ONE closing line for all of it, as the last line:
//
//   test:all: N passed, N failed, N skipped
//
// Parts: the static checks (scripts/static-checks.mjs, each check one test) beside every jest tier
// (test/tiers.mjs: unit, e2e, slow, …) in one run sharing two workers (the checks write nothing jest
// reads: type-check, lint and format check only; jest's workers often wait on a child, and the checks
// fill that time); then Node 22 and 24 side by side (scripts/test-node-versions.mjs: the main job and a
// slice of the tests on each, one worker each), after jest: both build dist/, which jest's set-up does too.
// Each part's own output is shown; no part prints a line of the closing line's format, so nothing can
// contradict it. Exit status 1 when anything failed, or a part ended without reporting its counts.
// Arguments are passed to jest (`npm run test:all -- --selectProjects unit`); TEST_NODE_VERSIONS=none
// leaves out the Node 22/24 part.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const scratch = mkdtempSync(join(tmpdir(), "test-all-"));
// TEST_TIERS=all: jest runs every tier, the slow one too (jest.config.mjs).
const env = { ...process.env, TEST_ALL_PART: "1", TEST_TIERS: "all" };
const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;

/**
 * Runs one part; `counts(status)` reads what it reported. Output is streamed (inherit) or, for parts
 * that run side by side, kept and printed whole when the part ends, so the parts do not interleave.
 */
function part(label, args, { partEnv = {}, buffered = false, counts }) {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, {
      cwd: root,
      env: { ...env, ...partEnv },
      stdio: buffered ? ["ignore", "pipe", "pipe"] : "inherit",
    });
    let output = "";
    if (buffered) {
      child.stdout.on("data", (d) => (output += d));
      child.stderr.on("data", (d) => (output += d));
    }
    child.on("close", (status, signal) => {
      if (buffered) process.stdout.write(output);
      const reported = counts();
      // A part that ended without counts (it crashed, or was killed) is one failure, never silence.
      const result = reported ?? { passed: 0, failed: 1, skipped: 0 };
      if (reported && status !== 0 && result.failed === 0) result.failed = 1;
      resolve({ label, ...result, skipped: result.skipped ?? 0, ms: Date.now() - started, status, signal });
    });
  });
}

const readJson = (file) => (existsSync(file) ? JSON.parse(readFileSync(file, "utf8")) : undefined);

const results = [];
try {
  // 1. Static checks (three processes side by side, cached; shown whole when they end), beside
  const staticJson = join(scratch, "static.json");
  const staticChecks = part(
    "static checks",
    [join(root, "scripts/static-checks.mjs"), "--json", staticJson],
    { buffered: true, counts: () => readJson(staticJson) },
  );

  // 2. every jest tier in one run: the tiers share the two workers, so e2e and slow files fill the
  //    time a worker would otherwise spend waiting on a child.
  const jestJson = join(scratch, "jest.json");
  const jestTiers = part(
    "jest, every tier",
    [
      join(root, "node_modules/jest/bin/jest.js"),
      "--ci",
      "--json",
      "--outputFile",
      jestJson,
      ...process.argv.slice(2),
    ],
    {
      counts: () => {
        const jest = readJson(jestJson);
        return (
          jest && {
            passed: jest.numPassedTests,
            failed: jest.numFailedTests + (jest.numRuntimeErrorTestSuites ?? 0),
            skipped: jest.numPendingTests + jest.numTodoTests,
          }
        );
      },
    },
  );
  results.push(await staticChecks, await jestTiers);

  // 3. Node 22 and 24 side by side, one jest worker each.
  const versions = (process.env.TEST_NODE_VERSIONS ?? "22,24")
    .split(",")
    .map((line) => line.trim())
    .filter((line) => line !== "" && line !== "none");
  results.push(
    ...(await Promise.all(
      versions.map((line) => {
        const json = join(scratch, `node-${line}.json`);
        return part(`Node ${line}`, [join(root, "scripts/test-node-versions.mjs"), "--json", json], {
          partEnv: { TEST_NODE_VERSIONS: line, JEST_WORKERS: "1" },
          buffered: true,
          counts: () => readJson(json),
        });
      }),
    )),
  );
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

const total = { passed: 0, failed: 0, skipped: 0 };
console.log("\ntest:all parts:");
for (const r of results) {
  total.passed += r.passed;
  total.failed += r.failed;
  total.skipped += r.skipped;
  const verdict = r.failed > 0 ? "FAILED" : "ok";
  console.log(
    `  ${r.label.padEnd(18)} ${verdict.padEnd(6)} passed ${r.passed}, failed ${r.failed}, ` +
      `skipped ${r.skipped} (${seconds(r.ms)})`,
  );
}
console.log(`test:all: ${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped`);
process.exit(total.failed > 0 ? 1 : 0);
