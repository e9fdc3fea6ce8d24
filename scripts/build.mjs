// Compiles the TypeScript sources to dist/ with swc: ~0.1 s instead of tsc's seconds, so `npm run synth`
// and cdktf's app command start fast. Type-checking is `npm run typecheck` (tsc --noEmit), run by the tests.
// Only files newer than their output are recompiled.
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const outRoot = join(root, "dist");
const sources = ["main.ts", "src", "stacks", "scripts", "bench"];

function* typescriptFiles(path) {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (!stat) return;
  if (stat.isDirectory()) {
    for (const entry of readdirSync(path).sort()) yield* typescriptFiles(join(path, entry));
  } else if (path.endsWith(".ts") && !path.endsWith(".d.ts")) {
    yield { path, mtimeMs: stat.mtimeMs };
  }
}

const options = {
  jsc: { parser: { syntax: "typescript" }, target: "es2022" },
  // `yaml` is required where a binding is first used, not at import: the config loader needs it only to
  // locate a config's problems (src/config/load.ts), so a valid config never loads its 72 modules.
  module: { type: "commonjs", lazy: ["yaml"] },
  sourceMaps: "inline",
};

// A build with other options is stale as a whole: dist/ records the options it was built with.
const optionsFile = join(outRoot, ".build-options.json");
const optionsText = JSON.stringify(options);
const sameOptions = existsSync(optionsFile) && readFileSync(optionsFile, "utf8") === optionsText;

const stale = [];
for (const source of sources) {
  for (const file of typescriptFiles(join(root, source))) {
    const out = join(outRoot, relative(root, file.path)).replace(/\.ts$/, ".js");
    const outStat = statSync(out, { throwIfNoEntry: false });
    if (!sameOptions || !outStat || outStat.mtimeMs < file.mtimeMs) stale.push({ source: file.path, out });
  }
}
if (stale.length > 0) {
  // Loaded only when there is work: the native binding costs ~0.1 s of every up-to-date run otherwise.
  const { transformFile } = await import("@swc/core");
  for (const { source, out } of stale) {
    const { code } = await transformFile(source, { ...options, filename: source });
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, code);
  }
  writeFileSync(optionsFile, optionsText);
}
if (process.env.BUILD_VERBOSE) console.error(`build: compiled ${stale.length} file(s) to dist/`);

// `node scripts/build.mjs --run dist/main.js [args…]`: then run that entry point as this process's main
// module (argv, require.main and exit code as with `node dist/main.js [args…]`). One Node start-up
// instead of two saves ~0.05 s CPU on every `npm run synth` (measured: docs/performance.md).
const runAt = process.argv.indexOf("--run");
if (runAt !== -1) {
  const entry = process.argv[runAt + 1];
  if (!entry) throw new Error("build.mjs: --run needs the compiled entry point, e.g. --run dist/main.js");
  process.argv.splice(1, runAt + 1, join(root, entry));
  const { runMain } = (await import("node:module")).default;
  runMain();
}
