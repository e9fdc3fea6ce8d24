import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { TIERS } from "./test/tiers.mjs";

const root = dirname(fileURLToPath(import.meta.url));

/**
 * Whether a tier runs: the `byDefault` tiers always; the others when TEST_TIERS=all (scripts/test-all.mjs,
 * CI) or when the command line names them (`--selectProjects slow`, a path under test/slow/).
 */
const runs = (tier) =>
  tier.byDefault ||
  process.env.TEST_TIERS === "all" ||
  process.argv.some((arg) => arg.split("=").pop() === tier.name || arg.includes(`${tier.dir}/`));

/** What every tier shares: Node, the SWC transform, the cut modules and the child deadlines (test/setup.ts). */
const shared = {
  // One context per project per worker, shared by its test files (test/support/shared-environment.cjs).
  testEnvironment: "<rootDir>/test/support/shared-environment.cjs",
  // Modules no test reaches, loaded with cdktf and zod by every test file that uses them; each throws
  // when reached (test/support/cut/cut-module.cjs).
  moduleNameMapper: {
    "^archiver$": "<rootDir>/test/support/cut/archiver.cjs",
    "^\\.\\./locales/index\\.cjs$": "<rootDir>/test/support/cut/zod-locales.cjs",
  },
  setupFilesAfterEnv: ["<rootDir>/test/setup.ts"],
  transform: { "^.+\\.ts$": ["@swc/jest", { jsc: { target: "es2022" } }] },
  // Modules outside test/ evaluated once per worker, with V8's code cache (test/support/shared-modules-runtime.cjs).
  runtime: "<rootDir>/test/support/shared-modules-runtime.cjs",
};

/** @type {import('jest').Config} */
export default {
  // One project per tier (test/tiers.mjs): `jest --selectProjects unit e2e` picks tiers; plain `jest`
  // runs the fast ones (unit, e2e, team).
  projects: TIERS.filter((tier) => existsSync(join(root, tier.dir)) && runs(tier)).map((tier) => ({
    ...shared,
    displayName: tier.name,
    roots: [`<rootDir>/${tier.dir}`],
    testMatch: tier.testMatch,
  })),
  // dist/ built and the shared fixture synthesized once per run, cached by a hash of its inputs
  // (test/support/global-setup.mjs).
  globalSetup: "<rootDir>/test/support/global-setup.mjs",
  // Removes the run's temporary directory (TMPDIR, made by the set-up: test/support/scratch-dir.cjs).
  globalTeardown: "<rootDir>/test/support/global-teardown.mjs",
  reporters: ["default", "<rootDir>/test/support/summary-reporter.js"],
  // Two workers match the 2-core machines; the tiers share them.
  maxWorkers: 2,
  // Far above any harness deadline a test sets itself; tests that start slow tools say their own.
  testTimeout: 30_000,
};
