// `npm run mutations`: breaks each promise on purpose, in a temporary copy of the repository, and checks
// that the fast tests catch it. The list is data (test/mutations/mutations.json): each entry names the
// promise, the file, an exact `find` (which must occur once) and its `replace`, and the test files
// expected to fail. An entry whose `find` no longer occurs is reported as stale, to be retargeted.
//
//   npm run mutations                       each mutation against its own test files
//   npm run mutations -- --tiers unit,e2e   each mutation against whole tiers (test/tiers.mjs)
//   npm run mutations -- --only ID[,ID]     some of them
//
// First the tests run unmutated (they must pass, or "caught" means nothing). Last line:
// `mutations: N of M caught`. Exit status 1 when one was not caught or is stale.
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const { mutations } = JSON.parse(readFileSync(join(root, "test/mutations/mutations.json"), "utf8"));
const option = (name) => {
  const at = process.argv.indexOf(name);
  return at === -1 ? undefined : process.argv[at + 1];
};
const tiers = option("--tiers")?.split(",");
const only = option("--only")?.split(",");
const selected = only ? mutations.filter((m) => only.includes(m.id)) : mutations;
const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;

/** The repository's tracked and new files (not ignored ones) in a scratch directory; node_modules linked. */
function copyRepository() {
  const copy = mkdtempSync(join(tmpdir(), "mutations-"));
  const listed = spawnSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], {
    cwd: root,
    encoding: "utf8",
  });
  if (listed.status !== 0) throw new Error(`git ls-files failed: ${listed.stderr}`);
  for (const file of listed.stdout.split("\0").filter(Boolean)) {
    mkdirSync(dirname(join(copy, file)), { recursive: true });
    cpSync(join(root, file), join(copy, file), { force: true, errorOnExist: false });
  }
  symlinkSync(join(root, "node_modules"), join(copy, "node_modules"), "dir");
  return copy;
}

/** jest in the copy on the mutation's test files (or whole tiers): its failed-test count. */
function runTests(copy, tests) {
  const report = join(copy, ".mutation-report.json");
  rmSync(report, { force: true });
  const args = [
    join(copy, "node_modules/jest/bin/jest.js"),
    "--ci",
    "--silent",
    "--json",
    "--outputFile",
    report,
    ...(tiers ? ["--selectProjects", ...tiers] : ["--runTestsByPath", ...tests]),
  ];
  const started = Date.now();
  const jest = spawnSync(process.execPath, args, {
    cwd: copy,
    encoding: "utf8",
    maxBuffer: 256 * 1024 * 1024,
    // The copy's own synth cache: a mutated source must not replace the repository's cached synth.
    env: { ...process.env, TEST_SYNTH_CACHE: join(copy, ".synth-cache"), TEST_ALL_PART: "1" },
    timeout: 20 * 60_000,
    killSignal: "SIGKILL",
  });
  let results;
  try {
    results = JSON.parse(readFileSync(report, "utf8"));
  } catch {
    results = undefined;
  }
  return {
    status: jest.status,
    failed: results ? results.numFailedTests + results.numRuntimeErrorTestSuites : undefined,
    failedNames: results
      ? results.testResults.flatMap((file) =>
          file.assertionResults.filter((t) => t.status === "failed").map((t) => t.fullName),
        )
      : [],
    output: `${jest.stdout}${jest.stderr}`,
    ms: Date.now() - started,
  };
}

const copy = copyRepository();
let caught = 0;
let problems = 0;
try {
  const allTests = [...new Set(selected.flatMap((m) => m.tests))];
  const baseline = runTests(copy, allTests);
  if (baseline.status !== 0 || baseline.failed !== 0) {
    process.stdout.write(baseline.output.slice(-6000));
    console.log(
      `mutations: the tests fail without any mutation (${baseline.failed ?? "no"} failures); fix that first`,
    );
    process.exit(1);
  }
  console.log(
    `baseline: ${tiers ? `tiers ${tiers.join(", ")}` : `${allTests.length} test files`} pass (${seconds(baseline.ms)})`,
  );
  for (const mutation of selected) {
    const file = join(copy, mutation.file);
    const original = readFileSync(file, "utf8");
    const occurrences = original.split(mutation.find).length - 1;
    if (occurrences !== 1) {
      problems++;
      console.log(
        `STALE   ${mutation.id}: "find" occurs ${occurrences} times in ${mutation.file}; retarget the entry`,
      );
      continue;
    }
    writeFileSync(file, original.replace(mutation.find, mutation.replace));
    try {
      const result = runTests(copy, mutation.tests);
      if (result.failed > 0 || (result.failed === undefined && result.status !== 0)) {
        caught++;
        const first = result.failedNames[0] ?? "the suite did not run";
        console.log(
          `caught  ${mutation.id} (${seconds(result.ms)}): ${result.failed ?? "?"} failed, e.g. ${first}`,
        );
      } else {
        problems++;
        console.log(`MISSED  ${mutation.id}: every test passed; the promise: ${mutation.promise}`);
      }
    } finally {
      writeFileSync(file, original);
    }
  }
} finally {
  rmSync(copy, { recursive: true, force: true });
}
console.log(`mutations: ${caught} of ${selected.length} caught`);
process.exit(problems > 0 ? 1 : 0);
