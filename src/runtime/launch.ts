/**
 * What `node dist/main.js` runs (the launcher scripts/build.mjs writes, ./main-launcher.ts): the main
 * job's bundle, `dist/bundle/main.js` (scripts/bundle.mjs), one file
 * instead of ~530 modules; or the per-file build, `dist/main.unbundled.js`, when
 *
 * - the config has an extension (`<name>.extend.ts`, src/extension): it imports the tool's modules and
 *   cdktf by path, and must get the very instances the synth uses, which a bundle inlines; or
 * - `GITLAB_OIDC_UNBUNDLED=1` asks for it (to compare both builds, or to rule the bundle out).
 *
 * Both builds are compiled from the same sources and write the same bytes (test/e2e/bundle.test.ts).
 */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { chooseConfig, extensionFor } from "../layout";
import { runBundle } from "./bundle-cache";
import { enableCompileCache } from "./compile-cache";

/** The environment variable that makes dist/main.js run the per-file build. */
export const UNBUNDLED_ENV = "GITLAB_OIDC_UNBUNDLED";

/** Which build of the main job a run uses, and why the per-file one when it is that. */
export type MainBuild = { readonly build: "bundle" } | { readonly build: "unbundled"; readonly why: string };

/** The build a run in `cwd` with `env` uses (the config is chosen as main.ts chooses it). */
export function mainBuild(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): MainBuild {
  const setting = env[UNBUNDLED_ENV];
  if (setting === "1" || setting === "true")
    return { build: "unbundled", why: `${UNBUNDLED_ENV}=${setting}` };
  const extension = extensionFor(chooseConfig(env, cwd).file);
  if (existsSync(resolve(cwd, extension))) {
    return { build: "unbundled", why: `the config has an extension, ${extension}` };
  }
  return { build: "bundle" };
}

/** The file of that build under `distDir`. */
export function mainBuildFile(distDir: string, build: MainBuild): string {
  return join(distDir, build.build === "bundle" ? join("bundle", "main.js") : "main.unbundled.js");
}

/**
 * Runs the main job from `distDir` (dist/): the bundle with its code cache (./bundle-cache.ts), or the
 * per-file build with Node's compile cache on (./compile-cache.ts).
 */
export function launchMain(distDir: string): void {
  const build = mainBuild();
  if (build.build === "bundle") {
    runBundle(mainBuildFile(distDir, build));
    return;
  }
  enableCompileCache();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require(mainBuildFile(distDir, build));
}
