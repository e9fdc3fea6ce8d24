// Shared by scripts/test-node-versions.mjs and scripts/compare-cdktn.mjs.
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { join, relative } from "node:path";

/**
 * Where the test scripts keep what they fetch (Node binaries, CDK Terrain): outside the repository and
 * reused by every clone and worktree on the machine. $GITLAB_OIDC_CACHE, else
 * ${XDG_CACHE_HOME:-~/.cache}/gitlab-oidc-aws.
 */
export function cacheDir(...parts) {
  const env = process.env;
  const root =
    env.GITLAB_OIDC_CACHE || join(env.XDG_CACHE_HOME || join(homedir(), ".cache"), "gitlab-oidc-aws");
  return join(root, ...parts);
}

/** spawnSync with text output and room for jest's. */
export function run(command, args, options = {}) {
  return spawnSync(command, args, { encoding: "utf8", maxBuffer: 256 * 1024 * 1024, ...options });
}

export function filesUnder(dir, base = dir) {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? filesUnder(path, base) : [relative(base, path)];
    });
}

/**
 * What differs between two directory trees: missing, extra and changed files. `normalize(file, text)`
 * may rewrite a file's text before the comparison, or return undefined to leave the file out.
 */
export function treeDifferences(expected, actual, normalize = (_file, text) => text) {
  const read = (dir, file) => normalize(file, readFileSync(join(dir, file), "utf8"));
  const want = filesUnder(expected).filter((f) => read(expected, f) !== undefined);
  const got = filesUnder(actual).filter((f) => read(actual, f) !== undefined);
  return [
    ...want.filter((f) => !got.includes(f)).map((f) => `missing ${f}`),
    ...got.filter((f) => !want.includes(f)).map((f) => `extra ${f}`),
    ...want
      .filter((f) => got.includes(f) && read(expected, f) !== read(actual, f))
      .map((f) => `different ${f}`),
  ];
}
