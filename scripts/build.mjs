// Compiles the TypeScript sources to dist/ with swc: ~0.1 s instead of tsc's seconds, so `npm run synth`
// and cdktf's app command start fast. Type-checking is `npm run typecheck` (tsc --noEmit), run by the tests.
// Only files newer than their output are recompiled.
//
// Then bundles the main job (scripts/bundle.mjs, esbuild): dist/main.js is a small launcher, bundled
// too (src/runtime/main-launcher.ts), that turns on the compile cache and runs dist/bundle/main.js, one
// file instead of ~530 modules (src/runtime/launch.ts); main.ts itself compiles to dist/main.unbundled.js,
// the per-file build that a config with an extension runs (and GITLAB_OIDC_UNBUNDLED=1). A bundle is
// rebuilt only when one of its inputs is newer than it, or the bundler or its settings changed.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const outRoot = join(root, "dist");
const sources = ["main.ts", "src", "stacks", "scripts", "bench"];

/** Entry points that are bundled: their per-file output is renamed, their launcher takes the name. */
const BUNDLED = [
  {
    entry: "main.ts",
    unbundled: "main.unbundled.js",
    bundle: join("bundle", "main.js"),
    // What `node <entry>.js` runs: this launcher, bundled into one file under the entry point's name.
    launcher: { entry: join("src", "runtime", "main-launcher.ts"), out: "main.js" },
  },
];

/** Where a source compiles to: beside its mirror path, or a bundled entry point's unbundled name. */
function outputOf(source) {
  const path = relative(root, source);
  const bundled = BUNDLED.find((b) => b.entry === path);
  return join(outRoot, bundled ? bundled.unbundled : path.replace(/\.ts$/, ".js"));
}

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
    const out = outputOf(file.path);
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

// The bundler's version and code are part of every bundle's identity.
const identity = JSON.stringify({
  esbuild: JSON.parse(readFileSync(join(root, "node_modules", "esbuild", "package.json"), "utf8")).version,
  bundler: readFileSync(join(root, "scripts", "bundle.mjs"), "utf8"),
});

/**
 * Records a bundle's SHA-256 with its size and mtime beside it (`main.js` → `main.digest.json`), unless
 * the record there already describes the file: the tool fingerprint takes the digest from it while the
 * file keeps that size and mtime (src/runtime/bundle-digest.ts), instead of hashing 1.2 MB every run.
 * Nothing is recorded if the file changed while it was read.
 */
function recordDigestUnlessCurrent(outfile) {
  const digestFile = outfile.replace(/\.js$/, ".digest.json");
  const before = statSync(outfile);
  try {
    const record = JSON.parse(readFileSync(digestFile, "utf8"));
    if (record.size === before.size && record.mtimeMs === before.mtimeMs) return;
  } catch {
    // No record yet, or a damaged one: written below.
  }
  const sha256 = createHash("sha256").update(readFileSync(outfile)).digest("hex");
  const after = statSync(outfile);
  if (after.size !== before.size || after.mtimeMs !== before.mtimeMs) return;
  writeFileSync(digestFile, JSON.stringify({ sha256, size: after.size, mtimeMs: after.mtimeMs }) + "\n");
}

/**
 * Bundles `entry` into `out` (relative to dist/) unless the bundle is fresh: built after every one of its
 * inputs (recorded beside it, `<name>.inputs.json`), by the same bundler and settings, and still the
 * file that build wrote (its size and mtime: another build, say of another branch, may have replaced it).
 */
async function bundleUnlessFresh(entry, out, kind) {
  const outfile = join(outRoot, out);
  const recordFile = outfile.replace(/\.js$/, ".inputs.json");
  const record = existsSync(recordFile) ? JSON.parse(readFileSync(recordFile, "utf8")) : undefined;
  const built = statSync(outfile, { throwIfNoEntry: false });
  const builtAt = built?.mtimeMs;
  const fresh =
    builtAt !== undefined &&
    record?.identity === identity &&
    record.output?.size === built.size &&
    record.output?.mtimeMs === builtAt &&
    record.inputs.every(
      (input) => (statSync(join(root, input), { throwIfNoEntry: false })?.mtimeMs ?? Infinity) <= builtAt,
    );
  if (fresh) {
    if (kind === "main") recordDigestUnlessCurrent(outfile);
    return;
  }
  const { bundle } = await import("./bundle.mjs");
  const { inputs } = await bundle(root, entry, outfile, { kind });
  const { size, mtimeMs } = statSync(outfile);
  writeFileSync(recordFile, JSON.stringify({ identity, inputs, output: { size, mtimeMs } }));
  if (kind === "main") recordDigestUnlessCurrent(outfile);
  if (process.env.BUILD_VERBOSE)
    console.error(`build: bundled ${entry} (${inputs.length} modules) into ${relative(root, outfile)}`);
}

for (const bundled of BUNDLED) {
  await bundleUnlessFresh(bundled.entry, bundled.bundle, "main");
  await bundleUnlessFresh(bundled.launcher.entry, bundled.launcher.out, "launcher");
}

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
