import js from "@eslint/js";
import tseslint from "typescript-eslint";

// The provider package root loads every resource class (seconds and ~0.5–1.4 GB); deep imports only.
const providerRoots = [
  { name: "@cdktf/provider-aws", message: "Import by deep path: @cdktf/provider-aws/lib/<resource>." },
  { name: "@cdktf/provider-tls", message: "Import by deep path: @cdktf/provider-tls/lib/<resource>." },
];
// Tests start children only through test/support/run.ts: jest cannot interrupt a synchronous spawn, so
// every child needs its own deadline that kills it and fails the test with its output.
const childProcess = ["node:child_process", "child_process"].map((name) => ({
  name,
  message:
    "In tests, use run/runOk/runAsync from test/support/run.ts: a timeout that kills the child and fails with its output.",
}));

export default tseslint.config(
  { ignores: ["node_modules", "dist/", "cdktf.out/", "terraform/", "coverage/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["**/*.mjs", "**/*.js"],
    languageOptions: { globals: { process: "readonly", console: "readonly", module: "writable" } },
  },
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
      "no-restricted-imports": ["error", { paths: providerRoots }],
    },
  },
  {
    files: ["test/**"],
    ignores: ["test/support/run.ts"],
    rules: { "no-restricted-imports": ["error", { paths: [...providerRoots, ...childProcess] }] },
  },
);
