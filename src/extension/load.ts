/**
 * Loads a team's extension file (`<config name>.extend.ts` beside the config). The npm scripts run the
 * compiled tool in dist/; the extension is compiled the same way (swc, as scripts/build.mjs does) to its
 * mirror path under dist/, so its relative imports of the tool (`./src/extension`, `./src/constructs/…`)
 * reach the very modules the synth runs. Under jest the file is required as TypeScript directly.
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import { toolRoot } from "../layout";
import type { Extension } from "./index";

/** An extension file that cannot be used: the message says what to fix. */
export class ExtensionError extends Error {}

/** Compiles `source` to `out` unless `out` is newer; swc is loaded only when there is work. */
function compile(source: string, out: string): void {
  const outStat = statSync(out, { throwIfNoEntry: false });
  if (outStat && outStat.mtimeMs >= statSync(source).mtimeMs) return;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const swc = require("@swc/core") as typeof import("@swc/core");
  const { code } = swc.transformSync(readFileSync(source, "utf8"), {
    filename: source,
    jsc: { parser: { syntax: "typescript" }, target: "es2022" },
    module: { type: "commonjs" },
    sourceMaps: "inline",
  });
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, code);
}

/** The extension in `file`, or undefined when there is no such file. */
export function loadExtension(file: string): Extension | undefined {
  if (!existsSync(file)) return undefined;
  // A bundle (scripts/bundle.mjs defines this) inlines the tool's modules and cdktf: the extension would
  // get other instances of them. dist/main.js runs the per-file build for a config with an extension
  // (src/runtime/launch.ts), so this is reached only by running a bundle directly.
  const bundle = process.env.GITLAB_OIDC_AWS_BUNDLE;
  if (bundle) {
    throw new Error(
      `${file}: ${bundle} cannot load an extension; run node dist/main.js, which runs the per-file build for it`,
    );
  }
  const root = toolRoot();
  const path = relative(root, resolve(file));
  if (path.startsWith("..") || isAbsolute(path)) {
    throw new ExtensionError(
      `${file}: an extension must be inside the repository (${root}) to import the tool`,
    );
  }
  let modulePath = resolve(file);
  if (!__filename.endsWith(".ts")) {
    modulePath = join(root, "dist", path.replace(/\.ts$/, ".js"));
    compile(resolve(file), modulePath);
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const loaded = require(modulePath) as { default?: unknown };
  const extension = loaded.default;
  const hook = (extension as { accountStack?: unknown } | undefined)?.accountStack;
  if (
    typeof extension !== "object" ||
    extension === null ||
    (hook !== undefined && typeof hook !== "function")
  ) {
    throw new ExtensionError(
      `${file}: the default export must be an extension: export default defineExtension({ accountStack(stack, context) { … } })`,
    );
  }
  return extension as Extension;
}
