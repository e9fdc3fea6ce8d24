/**
 * The test tiers, one meaning each (docs/testing.md). jest.config.mjs makes one jest project of each, so
 * `jest --selectProjects unit` runs one tier. Plain `jest` (and `npm test`) runs the tiers marked
 * `byDefault`, the feedback loop; `npm run test:all` and CI run every tier (TEST_TIERS=all).
 *
 * To add a tier: add a row here (name, the files it holds, what it means) and, if it has its own npm
 * script, a `test:<name>` line in package.json. A tier whose directory does not exist yet is left out.
 */
export const TIERS = [
  {
    name: "unit",
    dir: "test",
    testMatch: ["<rootDir>/test/*.test.ts"],
    meaning: "in-process, no child processes unless the unit is a script; ≤ 10 s on 2 idle cores",
    byDefault: true,
  },
  {
    name: "e2e",
    dir: "test/e2e",
    testMatch: ["<rootDir>/test/e2e/**/*.test.ts"],
    meaning: "real tools (gitlab-ci-local, shells, the AWS CLI), one shared set-up for many assertions",
    byDefault: true,
  },
  {
    name: "slow",
    dir: "test/slow",
    testMatch: ["<rootDir>/test/slow/**/*.test.ts"],
    meaning: "breadth only (full matrices, random sweeps); every promise also has a fast test",
    byDefault: false,
  },
  {
    name: "team",
    dir: "test/team",
    testMatch: ["<rootDir>/test/team/**/*.test.ts"],
    meaning: "checks of the team's own config and committed output (issue 21)",
    byDefault: true,
  },
];

/**
 * What scripts/test-node-versions.mjs runs on Node 22 and 24 besides the main job: the tests of what
 * can differ between Node versions, each with the reason. Not the whole suite twice more.
 */
export const NODE_VERSION_SLICE = [
  { file: "test/e2e/runtime-warnings.test.ts", why: "the warning filter reads Node's own call sites" },
  { file: "test/e2e/runtime-entry.test.ts", why: "the entry points' start-up hooks" },
  { file: "test/e2e/runtime-compile-cache.test.ts", why: "module.enableCompileCache differs by version" },
  { file: "test/e2e/runtime-bundle-cache.test.ts", why: "the bundle's own code cache is only for Node 20" },
  { file: "test/e2e/lazy-yaml.test.ts", why: "the lazy require of the built entry points" },
  { file: "test/e2e/startup-modules.test.ts", why: "which built-in modules a start-up loads" },
  { file: "test/synth-token-stacks.test.ts", why: "the synth's token-stack hook on this V8" },
  { file: "test/synth.test.ts", why: "cdktf and the provider classes, the HCL WebAssembly modules" },
  { file: "test/gitlab-api.test.ts", why: "fetch (undici) and its errors differ by version" },
  { file: "test/e2e/child-deadline.test.ts", why: "the child_process wrappers (failed on Node 24 once)" },
  { file: "test/explain.test.ts", why: "the explain CLI in process, HCL read back" },
  { file: "test/e2e/quiet-runs.test.ts", why: "every command's normal run prints no warning" },
  { file: "test/e2e/synth-workers.test.ts", why: "worker threads, structured clone and Atomics on this V8" },
];

/** The tiers `npm run test:fast` (and the mutation script) run: quick enough to run on every change. */
export const FAST_TIERS = ["unit", "e2e"];
