/**
 * Runs a bundle (scripts/bundle.mjs) as a CommonJS module, like `require(file)`, but with V8's code
 * cache kept beside Node's compile cache (./compile-cache.ts): compiling the 1.7 MB bundle is most of
 * what a bundled start-up still spends (~0.15 s of CPU on a busy 2-core machine on Node 20, < 1 ms from
 * the cache). On every Node: Node's own compile cache (22.1+) keeps the code compiled when a module is
 * loaded, not the functions the run then compiles, and measured no faster than none for the bundle
 * (Node 24, example: 0.39 s with it, 0.34 s with this cache). The cache is written once, at exit, after the run compiled
 * the functions it used, and is keyed by the bundle's size and modification time and Node's version;
 * V8 checks it again and ignores one that does not fit (a damaged file): the run then compiles as
 * without a cache and writes a new one.
 *
 * Off, so plain `require`, with source maps on
 * (`--enable-source-maps`: Node maps a required file's stack frames), with NODE_DISABLE_COMPILE_CACHE=1,
 * or when there is no directory for it. NODE_COMPILE_CACHE=dir moves it, as it moves Node's.
 */
import { isAscii } from "node:buffer";
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { Script } from "node:vm";
import { COMPILE_CACHE_SUBDIR, nearestNodeModules } from "./compile-cache";

/** The parts of Node's Module class (`require("node:module")`) a CommonJS load needs. */
interface ModuleClass {
  new (id: string, parent?: NodeModule): NodeModule & { paths: string[]; loaded: boolean };
  wrap(source: string): string;
  _nodeModulePaths(dir: string): string[];
  createRequire(file: string): NodeJS.Require;
}

/**
 * Where the code cache of `bundle` goes for Node `version` (this process's by default: the bench names
 * other versions' caches), or undefined when it is off (see the top of this file).
 */
export function bundleCacheFile(
  bundle: string,
  env: NodeJS.ProcessEnv = process.env,
  version: string = process.version,
): string | undefined {
  const sourceMaps = (process as { sourceMapsEnabled?: boolean }).sourceMapsEnabled === true;
  if (sourceMaps || env.NODE_DISABLE_COMPILE_CACHE) return undefined;
  const nodeModules = nearestNodeModules(dirname(bundle));
  const dir = env.NODE_COMPILE_CACHE || (nodeModules && join(nodeModules, COMPILE_CACHE_SUBDIR));
  return dir ? join(dir, `${basename(bundle)}-${version}-${process.arch}.v8cache`) : undefined;
}

/** The key a cache file starts with (one line): what must not have changed since it was written. */
function cacheKey(bundle: string): string {
  const stat = statSync(bundle);
  return `${bundle} ${stat.size} ${stat.mtimeMs} ${process.version}\n`;
}

/** The cached code in `file` if it was written for `key`. */
function readCache(file: string, key: string): Buffer | undefined {
  let data: Buffer;
  try {
    data = readFileSync(file);
  } catch {
    return undefined;
  }
  const keyBytes = Buffer.from(key);
  return data.subarray(0, keyBytes.length).equals(keyBytes) ? data.subarray(keyBytes.length) : undefined;
}

/**
 * A bundle's text. esbuild writes ASCII (non-ASCII characters escaped), which reads as Latin-1 into the
 * same string in a third of the time UTF-8 decoding takes (~10 ms of every start-up); anything else is
 * read as UTF-8.
 */
export function bundleSource(bundle: string): string {
  const bytes = readFileSync(bundle);
  launchedBundles.set(bundle, bytes);
  return isAscii(bytes) ? bytes.toString("latin1") : bytes.toString("utf8");
}

/**
 * The bytes of each bundle this process read to run, by path: the tool fingerprint hashes the bundle's
 * bytes (src/synth-cache.ts), and these are the very bytes that run (and one read of 1.2 MB fewer per
 * start-up). Found by a global symbol, because the bundle carries its own copy of the code that asks.
 */
export const LAUNCHED_BUNDLES = Symbol.for("gitlab-oidc-aws.launched-bundles");
const launchedBundles: Map<string, Buffer> = ((globalThis as Record<symbol, unknown>)[LAUNCHED_BUNDLES] ??=
  new Map<string, Buffer>()) as Map<string, Buffer>;

/** How a bundle was compiled: without this cache, from it, or afresh (none yet, or V8 refused it). */
export type BundleCompile = "off" | "cached" | "compiled" | "rejected";

/** Runs `bundle` as the module `require(bundle)` would, with the code cache where it is on. */
export function runBundle(bundle: string, parent: NodeModule | undefined = require.main): BundleCompile {
  const cacheFile = bundleCacheFile(bundle);
  if (!cacheFile) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require(bundle);
    return "off";
  }
  // The class itself (`import * as` gives a copy of its properties, not something to construct).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const Module = require("node:module") as ModuleClass;
  const key = cacheKey(bundle);
  const cachedData = readCache(cacheFile, key);
  const script = new Script(Module.wrap(bundleSource(bundle)), { filename: bundle, cachedData });
  if (!cachedData || script.cachedDataRejected) {
    process.once("exit", () => {
      try {
        mkdirSync(dirname(cacheFile), { recursive: true });
        const temporary = `${cacheFile}.${process.pid}`;
        writeFileSync(temporary, Buffer.concat([Buffer.from(key), script.createCachedData()]));
        renameSync(temporary, cacheFile);
      } catch {
        // A read-only disk: the next run compiles again.
      }
    });
  }
  const module = new Module(bundle, parent);
  module.filename = bundle;
  module.paths = Module._nodeModulePaths(dirname(bundle));
  require.cache[bundle] = module;
  const wrapper = script.runInThisContext() as (...args: unknown[]) => void;
  wrapper.call(module.exports, module.exports, Module.createRequire(bundle), module, bundle, dirname(bundle));
  module.loaded = true;
  return !cachedData ? "compiled" : script.cachedDataRejected ? "rejected" : "cached";
}
