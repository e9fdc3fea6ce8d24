/**
 * Node's on-disk compile cache (`module.enableCompileCache`, Node ≥ 22.1): modules are compiled once
 * and the V8 code is reused by later runs, which cuts the main job's start-up (most of it is loading
 * cdktf, zod and their dependencies). Kept in `node_modules/.cache/gitlab-oidc-aws/compile-cache`,
 * beside the modules it caches and outside the repository's tracked files; Node keys it by its own
 * version and each file's content, so a stale entry is never used.
 *
 * Node 20 has no compile cache. `v8-compile-cache` would add ~0.01–0.02 s to a 0.3 s run's saving for
 * a dependency that patches the module loader: not worth it (measured: docs/performance.md).
 *
 * `NODE_COMPILE_CACHE=dir` (Node's own variable) chooses another directory; `NODE_DISABLE_COMPILE_CACHE=1`
 * turns it off.
 */
import * as nodeModule from "node:module";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";

/** Where the cache goes under the nearest `node_modules`. */
export const COMPILE_CACHE_SUBDIR = join(".cache", "gitlab-oidc-aws", "compile-cache");

interface CompileCacheResult {
  readonly status: number;
  readonly message?: string;
  readonly directory?: string;
}

/** `module.enableCompileCache` where this Node has it (22.1+; not in @types/node 20). */
type EnableCompileCache = (directory?: string) => CompileCacheResult;

/** The `node_modules` directory nearest to `from` (this file's own, when installed), if any. */
export function nearestNodeModules(from: string): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, "node_modules");
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}

/**
 * Turns the compile cache on for every module loaded after this call; returns the directory in use,
 * or undefined where Node has no compile cache or it could not be enabled (a read-only disk: the run
 * goes on uncached).
 */
export function enableCompileCache(env: NodeJS.ProcessEnv = process.env): string | undefined {
  // The main job's bundle (scripts/bundle.mjs defines this in it) holds every module it runs and has its
  // own code cache (./bundle-cache.ts): Node's would cache nothing, and turning it on costs 0.15–1 ms.
  if (process.env.GITLAB_OIDC_AWS_BUNDLE) return undefined;
  const enable = (nodeModule as unknown as { enableCompileCache?: EnableCompileCache }).enableCompileCache;
  if (typeof enable !== "function") return undefined;
  const nodeModules = env.NODE_COMPILE_CACHE ? undefined : nearestNodeModules(__dirname);
  try {
    return enable(nodeModules && join(nodeModules, COMPILE_CACHE_SUBDIR)).directory;
  } catch {
    return undefined;
  }
}
