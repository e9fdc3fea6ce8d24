import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules/", "dist/", "cdktf.out/", "terraform/", "coverage/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["**/*.mjs", "**/*.js"],
    languageOptions: { globals: { process: "readonly", console: "readonly", module: "writable" } },
  },
  {
    // The modules jest.config.mjs maps cut modules to: CommonJS, as the modules they stand for; and the
    // test harness's CommonJS modules (jest requires the runtime; tests require the scratch directory's).
    files: ["test/support/cut/*.cjs", "test/support/*.cjs"],
    languageOptions: {
      sourceType: "commonjs",
      globals: { require: "readonly", module: "writable", exports: "writable", process: "readonly" },
    },
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
      // The provider package root loads every resource class (seconds and ~0.5–1.4 GB); deep imports only.
      "no-restricted-imports": [
        "error",
        {
          paths: [
            {
              name: "@cdktf/provider-aws",
              message: "Import by deep path: @cdktf/provider-aws/lib/<resource>.",
            },
            {
              name: "@cdktf/provider-tls",
              message: "Import by deep path: @cdktf/provider-tls/lib/<resource>.",
            },
          ],
        },
      ],
    },
  },
);
