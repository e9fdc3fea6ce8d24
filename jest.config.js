/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  setupFilesAfterEnv: ["<rootDir>/test/setup.ts"],
  reporters: ["default", "<rootDir>/test/support/summary-reporter.js"],
  transform: { "^.+\\.ts$": ["@swc/jest", { jsc: { target: "es2022" } }] },
  // The synth tests share one in-process synth per file; two workers match the 2-core machines.
  maxWorkers: 2,
  // Synth tests load two WebAssembly modules (HCL format and parse); generous on a busy 2-core machine.
  testTimeout: 30_000,
};
