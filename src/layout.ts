/**
 * Which files are the team's and which the tool's, and where a run reads and writes (docs/layout.md).
 *
 * The team owns, at the repository root: its config (`gitlab-oidc.yaml`), the lock beside it, the
 * generated output (`terraform/`) and optionally one extension file (`gitlab-oidc.extend.ts`).
 * Upstream never ships those paths, so `git merge` of a new tool version cannot conflict with them.
 * Upstream's example lives in `examples/basic/`, with its own lock and its own committed output.
 */
import { existsSync } from "node:fs";
import { basename, dirname, join } from "node:path";

/** The team's config, relative to the repository root (the working directory of `npm run …`). */
export const TEAM_CONFIG = "gitlab-oidc.yaml";
/** The team's generated output: the config's output directory, `terraform/`. */
export const TEAM_OUTDIR = "terraform";
/** Upstream's example: a config, its lock and its committed output, never edited by a team. */
export const EXAMPLE_DIR = join("examples", "basic");
export const EXAMPLE_CONFIG = join(EXAMPLE_DIR, TEAM_CONFIG);
/** The team's extension file, beside its config (src/extension). */
export const TEAM_EXTENSION = "gitlab-oidc.extend.ts";
/** Every path of the root the team owns; all else is the tool's, which upstream changes. */
export const TEAM_FILES = [TEAM_CONFIG, "gitlab-oidc.lock.yaml", TEAM_OUTDIR, TEAM_EXTENSION] as const;
/** The environment variable naming another config file (a scratch run). */
export const CONFIG_ENV = "GITLAB_OIDC_CONFIG";

/** The config a run uses, and why. */
export interface ConfigChoice {
  /** The file, as given or relative to the working directory. */
  readonly file: string;
  /**
   * `env`: named by GITLAB_OIDC_CONFIG; `team`: the root gitlab-oidc.yaml; `example`: there is no root
   * config yet (a fresh clone), so the example runs.
   */
  readonly source: "env" | "team" | "example";
}

/** `$GITLAB_OIDC_CONFIG`, else the team's gitlab-oidc.yaml, else (a fresh clone) the example. */
export function chooseConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): ConfigChoice {
  const named = env[CONFIG_ENV];
  if (named) return { file: named, source: "env" };
  if (existsSync(join(cwd, TEAM_CONFIG)) || !existsSync(join(cwd, EXAMPLE_CONFIG))) {
    return { file: TEAM_CONFIG, source: "team" };
  }
  return { file: EXAMPLE_CONFIG, source: "example" };
}

/**
 * Where a config's output goes unless a run names a directory: beside the config, `terraform/` for a
 * file named gitlab-oidc.yaml (so the team's root config writes the root `terraform/`), `<name>.terraform/`
 * for any other name (`scratch/try.yaml` → `scratch/try.terraform/`). A scratch config can therefore
 * never overwrite the team's `terraform/` unless `--out`/`CDKTF_OUTDIR` asks for it.
 */
export function outdirFor(configFile: string): string {
  const name = basename(configFile).replace(/\.ya?ml$/i, "");
  return join(dirname(configFile), name === "gitlab-oidc" ? TEAM_OUTDIR : `${name}.terraform`);
}

/** The extension file a config uses if it exists: `<dir>/<name>.extend.ts`, like its lock. */
export function extensionFor(configFile: string): string {
  const name = basename(configFile).replace(/\.ya?ml$/i, "");
  return join(dirname(configFile), `${name}.extend.ts`);
}

/** `gitlab-oidc.yaml` → `gitlab-oidc.lock.yaml`, `path/x.yml` → `path/x.lock.yaml`: beside the config. */
export function lockPathFor(configFile: string): string {
  const name = basename(configFile).replace(/\.ya?ml$/i, "");
  return join(dirname(configFile), `${name}.lock.yaml`);
}

/** The tool's repository root: the nearest directory above this module (src/ or dist/src/) with a package.json. */
export function toolRoot(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, "package.json")) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}
