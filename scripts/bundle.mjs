// One file per entry point (esbuild), for start-up: `node dist/main.js` spent most of its time loading
// ~530 modules one by one (resolving, reading and compiling each), ~200 of them cdktf's and never used by
// a synth. A bundle is one read and one compile, cached by its own code cache (src/runtime/bundle-cache.ts).
// scripts/build.mjs calls this only when a bundle is stale; docs/performance.md has the numbers.
//
// What a bundle changes, and the guard for each:
// - Modules a synth never calls are CUT (below): each is replaced by a module that throws, naming the
//   module, as soon as anything reads, calls or constructs it. Nothing is ever silently skipped.
// - cdktf's one `util.isArray` call becomes `Array.isArray` (the same function): Node ≥ 22 would print
//   DEP0044 for it, and src/runtime/warnings.ts can no longer tell cdktf's frames from ours in a bundle.
//   The build fails if that call is not found exactly once.
// - The tool's own modules are inlined, so an extension (src/extension/load.ts) could not share them:
//   dist/main.js runs the unbundled build when the config has one (src/runtime/launch.ts).
// - Some of cdktf's and constructs' requires wait for first use (PATCHES below: node:assert, node:crypto,
//   child_process, semver, and the modules behind cdktf's index); each patch fails the build unless the
//   code it rewrites is found as expected, and the bundle's output is tested against the per-file
//   build's (test/e2e/bundle.test.ts).
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * Modules cut from the bundles: `request` as required by a file matching `importer`; `why` a synth never
 * reaches it. A cut module's exported names are kept (so `export *` over it still lists them), their
 * values are the guard.
 */
export const CUT_MODULES = [
  {
    request: "archiver",
    importer: /[\\/]node_modules[\\/]cdktf[\\/]lib[\\/]private[\\/]fs\.js$/,
    module: "archiver (cdktf/lib/private/fs.js: zipping a TerraformAsset directory)",
    why: "the tool declares no TerraformAsset; archiver and its dependencies are ~190 modules",
  },
  {
    request: "./testing",
    importer: /[\\/]node_modules[\\/]cdktf[\\/]lib[\\/]index\.js$/,
    module: "cdktf/lib/testing (cdktf's Testing helpers)",
    why: "for cdktf's own unit tests; the tool's tests run the unbundled sources",
  },
  {
    request: "./testing/matchers",
    importer: /[\\/]node_modules[\\/]cdktf[\\/]lib[\\/]index\.js$/,
    module: "cdktf/lib/testing/matchers (cdktf's jest matchers)",
    why: "for cdktf's own unit tests; the tool's tests run the unbundled sources",
  },
  {
    // An ES module: its locales are functions, each replaced by one that throws; `en` is kept.
    request: "../locales/index.js",
    importer: /[\\/]node_modules[\\/]zod[\\/]v4[\\/](classic|core|mini)[\\/][^\\/]+\.js$/,
    module: "zod/v4/locales (zod's error messages in other languages)",
    why: "the tool's messages are its own and in English; the locales are 12% of the bundle",
    keep: ["en"],
  },
];

/** The export names of an ES module that re-exports defaults: `export { default as ar } from "./ar.js"`. */
export function reexportedNames(source) {
  return [...source.matchAll(/export \{ default as (\w+) \} from "(\.\/[^"]+)"/g)].map((m) => ({
    name: m[1],
    from: m[2],
  }));
}

/** An ES module cut but for `keep`: every other export is a function that throws naming it. */
export function cutEsModuleSource(module, exports, keep) {
  const lines = [
    `function reached(name) {`,
    `  throw new Error(${JSON.stringify(`gitlab-oidc-aws: this run reached ${module}, which the bundle cut (call of `)} + name + ${JSON.stringify(`). ${CUT_ADVICE}`)});`,
    `}`,
  ];
  for (const { name, from } of exports) {
    if (keep.includes(name)) lines.push(`export { default as ${name} } from ${JSON.stringify(from)};`);
    else lines.push(`export function ${name}() { return reached(${JSON.stringify(name)}); }`);
  }
  return lines.join("\n") + "\n";
}

/** Where a bundled run says what to do when it reaches a cut module. */
export const CUT_ADVICE =
  "Run the unbundled build instead (GITLAB_OIDC_UNBUNDLED=1 node dist/main.js) and report this: scripts/bundle.mjs cut a module the run needs.";

/**
 * The source of a cut module: every read of an export, call or `new` throws an Error naming it. Reading
 * `__esModule` or a symbol (module interop helpers do) and listing the export names (`export *`) are
 * allowed, so loading the module that requires it still works.
 */
export function cutModuleSource(module, exportNames) {
  return `"use strict";
const names = ${JSON.stringify(exportNames)};
function reached(how) {
  throw new Error(${JSON.stringify(`gitlab-oidc-aws: this run reached ${module}, which the bundle cut (`)} + how + ${JSON.stringify(`). ${CUT_ADVICE}`)});
}
const target = function cutModule() {};
module.exports = new Proxy(target, {
  get(t, key) {
    if (typeof key === "symbol" || key === "__esModule") return undefined;
    return reached("read of " + String(key));
  },
  apply: () => reached("call"),
  construct: () => reached("new"),
  set: (t, key) => reached("write of " + String(key)),
  ownKeys: () => [...names, "prototype"],
  getOwnPropertyDescriptor: (t, key) =>
    key === "prototype"
      ? Reflect.getOwnPropertyDescriptor(t, key)
      : names.includes(key)
        ? { value: undefined, writable: true, enumerable: true, configurable: true }
        : undefined,
});
`;
}

/** `exports.Name = …` assignments of a CommonJS file: the names its module exports. */
export function commonJsExportNames(source) {
  return [...new Set([...source.matchAll(/^exports\.(\w+) = /gm)].map((match) => match[1]))].sort();
}

/** cdktf's `util.isArray` call (lib/terraform-output.js), as TypeScript compiled it. */
const UTIL_IS_ARRAY_CALL = "(0, util_2.isArray)(";

function withoutUtilIsArray(path, source) {
  const count = source.split(UTIL_IS_ARRAY_CALL).length - 1;
  if (count !== 1) {
    throw new Error(
      `${path}: expected cdktf's util.isArray call ${UTIL_IS_ARRAY_CALL} once, found ${count} (a new cdktf version?)`,
    );
  }
  return source.replace(UTIL_IS_ARRAY_CALL, "Array.isArray(");
}

/**
 * `const name = require("module");` in a CommonJS file, made to load the module on first use: for
 * modules a synth needs only on a rare path. Fails the build unless each is found exactly once.
 */
function withLazyRequires(path, source, modules) {
  let result = source;
  for (const module of modules) {
    const pattern = new RegExp(`^const (\\w+) = require\\("${module}"\\);$`, "gm");
    const found = [...source.matchAll(pattern)].length;
    if (found !== 1)
      throw new Error(`${path}: expected one \`const … = require("${module}")\`, found ${found}`);
    result = result.replace(pattern, `const $1 = __lazyRequire(() => require("${module}"));`);
  }
  return withLeadingCode(result, LAZY_REQUIRE);
}

/** `__exportStar(require("./x"), exports);`: TypeScript's `export * from "./x"` in CommonJS. */
const EXPORT_STAR = /^__exportStar\(require\("(\.[^"]+)"\), exports\);$/gm;

/**
 * Each `export * from "./x"` of a CommonJS index made a getter per name that loads "./x" when the name is
 * first read. The names are read from the modules at build time, in TypeScript's __exportStar order with
 * its rule (the first module to export a name keeps it). Fails the build unless the index's own names
 * are then exactly the names the real index exports.
 */
export function withLazyReexports(path, source) {
  const requireHere = createRequire(path);
  const names = new Set();
  const replaced = source.replace(EXPORT_STAR, (_, request) => {
    const own = Object.keys(requireHere(request)).filter((name) => name !== "default" && !names.has(name));
    for (const name of own) names.add(name);
    return `__lazyExportStar(() => require(${JSON.stringify(request)}), ${JSON.stringify(own)}, exports);`;
  });
  const direct = [...source.matchAll(/^exports\.(\w+) = /gm)].map((match) => match[1]);
  const listed = [...new Set([...names, ...direct])].sort();
  const real = Object.keys(requireHere(path))
    .filter((name) => name !== "__esModule")
    .sort();
  if (names.size === 0 || JSON.stringify(listed) !== JSON.stringify(real)) {
    throw new Error(`${path}: the lazy re-exports would not list the index's exports (a new cdktf version?)`);
  }
  return withLeadingCode(replaced, LAZY_EXPORT_STAR);
}

/** TypeScript's __exportStar, each binding a getter that loads its module when first read. */
export const LAZY_EXPORT_STAR = `function __lazyExportStar(load, names, exports) {
  let loaded;
  for (const name of names) {
    if (Object.prototype.hasOwnProperty.call(exports, name)) continue;
    Object.defineProperty(exports, name, { enumerable: true, get: () => (loaded ??= load())[name] });
  }
}`;

/** The tool's json-stable-stringify (src/terraform/stable-json.ts), by absolute path for esbuild. */
const STABLE_JSON = join(dirname(fileURLToPath(import.meta.url)), "..", "src", "terraform", "stable-json.ts");

/**
 * `const stringify = require("json-stable-stringify");` in a cdktf file, made the tool's stableStringify
 * (same bytes for `{ space: 2 }`, and a loud failure for other options). Fails the build unless found once.
 */
function withToolStableJson(path, source) {
  const pattern = /^const stringify = require\("json-stable-stringify"\);$/gm;
  const found = [...source.matchAll(pattern)].length;
  if (found !== 1)
    throw new Error(
      `${path}: expected one \`const stringify = require("json-stable-stringify")\`, found ${found}`,
    );
  return source.replace(
    pattern,
    `const stringify = require(${JSON.stringify(STABLE_JSON)}).stableStringify;`,
  );
}

/**
 * `const name = require("assert");` in a CommonJS file that calls only `name(…)` and `name.ok(…)`, made to
 * load node:assert only when a check fails (then it throws what node:assert throws). Fails the build on
 * any other use.
 */
export function withAssertLoadedOnFailure(path, source) {
  const pattern = /^const (\w+) = require\("assert"\);$/gm;
  const found = [...source.matchAll(pattern)];
  if (found.length !== 1)
    throw new Error(`${path}: expected one \`const … = require("assert")\`, found ${found.length}`);
  const name = found[0][1];
  const uses = [...source.replace(pattern, "").matchAll(new RegExp(`\\b${name}\\b(.{0,4})`, "g"))];
  const other = uses.find((use) => !use[1].startsWith("(") && !use[1].startsWith(".ok)"));
  if (other)
    throw new Error(`${path}: ${name} is used other than as ${name}(…) or ${name}.ok(…): ${other[0]}`);
  return withLeadingCode(
    source.replace(pattern, `const $1 = __assertLoadedOnFailure;`),
    ASSERT_LOADED_ON_FAILURE,
  );
}

/** node:assert's `assert(value, message)` and `assert.ok`, loading node:assert when `value` is falsy. */
export const ASSERT_LOADED_ON_FAILURE = `function __assertLoadedOnFailure(value, message) {
  if (!value) require("assert").ok(value, message);
}
__assertLoadedOnFailure.ok = __assertLoadedOnFailure;`;

/** A module loaded on first use of any of its properties, or of itself as a function. */
export const LAZY_REQUIRE = `function __lazyRequire(load) {
  let loaded;
  const real = () => (loaded ??= load());
  return new Proxy(function lazyModule() {}, {
    get: (_, key) => real()[key],
    has: (_, key) => key in real(),
    apply: (_, self, args) => Reflect.apply(real(), self, args),
  });
}`;

/** What the bundles change in files of node_modules: the file (a path pattern) and the change. */
const PATCHES = [
  {
    // See the top of this file.
    file: /[\\/]node_modules[\\/]cdktf[\\/]lib[\\/]terraform-output\.js$/,
    apply: withoutUtilIsArray,
  },
  {
    // ValidateTerraformVersion (`terraform version` where an import block needs Terraform ≥ 1.5) runs only
    // in cdktf's own validation of a stack, which App.synth() does not call.
    file: /[\\/]node_modules[\\/]cdktf[\\/]lib[\\/]validations[\\/]validate-binary-version\.js$/,
    apply: (path, source) => withLazyRequires(path, source, ["child_process", "semver"]),
  },
  {
    // Loading node:assert is ~1–2 ms of every start-up on Node 22/24, for checks that pass in every
    // synth: node:assert is loaded when one fails, to throw as it would have.
    file: /[\\/]node_modules[\\/]cdktf[\\/]lib[\\/]terraform-(element|resource|data-source)\.js$/,
    apply: withAssertLoadedOnFailure,
  },
  {
    // cdktf's sorted JSON (manifest.json, metadata.json, cdk.tf.json) written by the tool's copy of it in
    // the same bytes (src/terraform/stable-json.ts): json-stable-stringify and its ten dependencies
    // (get-intrinsic, call-bind, …) took ~0.6–0.9 ms of every start-up to load.
    file: /[\\/]node_modules[\\/]cdktf[\\/]lib[\\/](manifest|synthesize[\\/]synthesizer)\.js$/,
    apply: withToolStableJson,
  },
  {
    // cdktf's index loads every one of cdktf's modules; those a synth never reads (its backends but the
    // local one, Fn and its ~300 functions, operators, iterators, …) now load when first read.
    file: /[\\/]node_modules[\\/]cdktf[\\/]lib[\\/]index\.js$/,
    apply: withLazyReexports,
  },
  {
    // Copies and zips TerraformAsset directories, which the tool declares none of.
    file: /[\\/]node_modules[\\/]cdktf[\\/]lib[\\/]private[\\/]fs\.js$/,
    apply: (path, source) => withLazyRequires(path, source, ["child_process", "crypto"]),
  },
  {
    // node:crypto (and Node's streams with it) took 3–6 ms of every start-up, for hashes these modules
    // compute only for long construct paths (cdktf's makeUniqueId and its id-upgrade aspect) and for
    // construct addresses (constructs' addressOf); the tool hashes without it (src/runtime/sha256.ts).
    file: /[\\/]node_modules[\\/](cdktf[\\/]lib[\\/](private[\\/]unique|upgrade-id-aspect)|constructs[\\/]lib[\\/]private[\\/]uniqueid)\.js$/,
    apply: (path, source) => withLazyRequires(path, source, ["crypto"]),
  },
];

/**
 * What the profile of module loading (bench/phases.ts) counts a file under: the innermost package in
 * node_modules (`semver (cdktf's)` for a copy bundled inside another), or the tool's own top directory.
 */
export function packageOf(root, path) {
  const rel = relative(root, path).split(/[\\/]/);
  const at = rel.lastIndexOf("node_modules");
  if (at === -1) return rel.length > 2 && rel[0] === "src" ? `tool: src/${rel[1]}` : `tool: ${rel[0]}`;
  const name = rel[at + 1]?.startsWith("@") ? `${rel[at + 1]}/${rel[at + 2]}` : rel[at + 1];
  const outer = rel.indexOf("node_modules");
  if (outer === at) return name;
  const owner = rel[outer + 1]?.startsWith("@") ? `${rel[outer + 1]}/${rel[outer + 2]}` : rel[outer + 1];
  return `${name} (${owner}'s)`;
}

/**
 * A profiling bundle's first lines: each module's top-level code runs between enter and leave; the time
 * not spent in modules it requires is the module's own, summed per package in
 * `globalThis.__gitlabOidcModuleTimes` (ms). A module that returns early (CommonJS allows it) is closed
 * when its parent leaves.
 */
const PROFILER = `globalThis.__gitlabOidcModuleTimes = {};
const __profileStack = [];
const __profileNow = () => Number(process.hrtime.bigint()) / 1e6;
function __profileEnter(pkg) { __profileStack.push({ pkg, start: __profileNow(), inner: 0 }); }
function __profileLeave(pkg) {
  const now = __profileNow();
  for (;;) {
    const frame = __profileStack.pop();
    if (!frame) return;
    const total = now - frame.start;
    const times = globalThis.__gitlabOidcModuleTimes;
    times[frame.pkg] = (times[frame.pkg] ?? 0) + total - frame.inner;
    if (__profileStack.length > 0) __profileStack[__profileStack.length - 1].inner += total;
    if (frame.pkg === pkg) return;
  }
}`;

/** A module's leading comments and "use strict" directive, if it has one ("" if not). */
export function prologueOf(source) {
  return /^(?:\s*(?:\/\/[^\n]*\n|\/\*[\s\S]*?\*\/))*\s*(["'])use strict\1;?/.exec(source)?.[0] ?? "";
}

/** `code` put first in a module's source, after its prologue: a file that was strict stays strict. */
export function withLeadingCode(source, code) {
  const prologue = prologueOf(source);
  return `${prologue}\n${code}\n${source.slice(prologue.length)}`;
}

/** A module's source between __profileEnter and __profileLeave, after its "use strict" prologue. */
function profiled(pkg, source) {
  const prologue = prologueOf(source);
  const name = JSON.stringify(pkg);
  return `${prologue};__profileEnter(${name});${source.slice(prologue.length)}\n;__profileLeave(${name});\n`;
}

/**
 * Bundles `entry` (relative to root) into `outfile`, with a linked source map; resolves to the list of
 * input files (for the staleness check) and the esbuild metafile. `kind`: "main" for a command's code
 * (with the cuts and patches above), "launcher" for the small file that runs it (no cdktf, nothing cut).
 */
export async function bundle(root, entry, outfile, { profile = false, kind = "main" } = {}) {
  const esbuild = await import("esbuild");
  const cuts = kind === "launcher" ? [] : CUT_MODULES;
  const cutPlugin = {
    name: "cut-modules",
    setup(build) {
      for (const [index, cut] of cuts.entries()) {
        const filter = new RegExp(`^${cut.request.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}$`);
        build.onResolve({ filter }, (args) => {
          if (!cut.importer.test(args.importer)) return undefined;
          return { path: String(index), namespace: "cut", pluginData: { resolveDir: args.resolveDir } };
        });
      }
      build.onLoad({ filter: /.*/, namespace: "cut" }, (args) => {
        const cut = cuts[Number(args.path)];
        const { resolveDir } = args.pluginData;
        const file = cut.request.startsWith(".")
          ? createRequire(join(resolveDir, "x.js")).resolve(cut.request)
          : undefined;
        const source = file ? readFileSync(file, "utf8") : "";
        if (cut.keep) {
          const exports = reexportedNames(source);
          const missing = cut.keep.filter((name) => !exports.some((e) => e.name === name));
          if (missing.length > 0) throw new Error(`${file}: no export ${missing.join(", ")} to keep`);
          return {
            contents: cutEsModuleSource(cut.module, exports, cut.keep),
            loader: "js",
            resolveDir: dirname(file),
          };
        }
        return { contents: cutModuleSource(cut.module, commonJsExportNames(source)), loader: "js" };
      });
      // The patches below; with `profile`, every module.
      const patched = new RegExp(PATCHES.map((patch) => patch.file.source).join("|"));
      build.onLoad({ filter: profile ? /\.[cm]?[jt]s$/ : patched }, (args) => {
        let source = readFileSync(args.path, "utf8");
        for (const patch of PATCHES) if (patch.file.test(args.path)) source = patch.apply(args.path, source);
        const loader = /\.[cm]?ts$/.test(args.path) ? "ts" : "js";
        return { contents: profile ? profiled(packageOf(root, args.path), source) : source, loader };
      });
    },
  };
  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "node20",
    // Dependencies a run loads only on a rare path, from node_modules as before: swc compiles an
    // extension (src/extension/load.ts), prettier formats the bench's table.
    external: ["@swc/core", "esbuild", "prettier"],
    // Lets src/extension/load.ts refuse to load an extension into a bundle (see the top of this file), and
    // src/runtime/compile-cache.ts leave Node's compile cache off in one. Not in the launcher, which turns
    // that cache on for the per-file build.
    define:
      kind === "launcher"
        ? {}
        : { "process.env.GITLAB_OIDC_AWS_BUNDLE": JSON.stringify(relative(root, outfile)) },
    // Whitespace and syntax only (a third smaller: less to read and check at every start, ~8% of the
    // main job's CPU on the example); names stay, so stack traces and errors read as the sources do.
    minifyWhitespace: true,
    minifySyntax: true,
    sourcemap: "linked",
    sourcesContent: false,
    metafile: true,
    logLevel: "warning",
    plugins: [cutPlugin],
    ...(profile ? { banner: { js: PROFILER } } : {}),
  });
  // Every cut must have happened: a cut that no longer matches (cdktf moved a file) is a build error.
  const missed = cuts.filter((_, index) => !(`cut:${index}` in result.metafile.inputs));
  if (missed.length > 0) {
    throw new Error(
      `scripts/bundle.mjs: not cut (no importer matched): ${missed.map((cut) => cut.module).join(", ")}`,
    );
  }
  const inputs = Object.keys(result.metafile.inputs).filter((input) => !input.includes(":"));
  return { inputs, metafile: result.metafile };
}
