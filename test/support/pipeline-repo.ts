/**
 * Helpers for the pipeline tests: a throw-away git repository holding a copy of the working tree (what
 * would be committed), and gitlab-ci-local run in it. The real checkout is never touched.
 */
import { appendFileSync, cpSync, existsSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { parse } from "yaml";
import { TEAM_FILES } from "../../src/layout";
import { run, runAsync, runOk } from "./run";

export const repoRoot = join(__dirname, "..", "..");
export const gitlabCiLocal = join(repoRoot, "node_modules", ".bin", "gitlab-ci-local");

/**
 * GitLab's CI schema (its `app/assets/javascripts/editor/schema/ci.json`): $GITLAB_CI_SCHEMA, else the
 * copy in shared/ beside the repository clone, else the copy kept in the repository for pipelines that
 * have no shared/ (test/fixtures/gitlab/ci.schema.json, taken from gitlabhq commit 0286e4c6).
 */
export const gitlabCiSchemaFile =
  process.env.GITLAB_CI_SCHEMA ||
  [
    join(repoRoot, "..", "shared", "gitlab-ci.schema.json"),
    join(repoRoot, "test", "fixtures", "gitlab", "ci.schema.json"),
  ].find((file) => existsSync(file))!;

/** Parses GitLab CI YAML, keeping `!reference [job, key]` as the list it is. */
export function parseCiYaml(text: string): unknown {
  return parse(text, {
    customTags: [{ tag: "!reference", collection: "seq", resolve: (value) => value }],
  });
}

const GIT = ["-c", "user.email=pipeline-test@example.com", "-c", "user.name=pipeline-test"];

/**
 * Copies the tool's files of the working tree (without node_modules, dist and state, and without the
 * team's files: docs/layout.md) into a new git repository with one commit on `main` and an `origin`
 * remote, with node_modules linked (not committed). The team's place is taken by upstream's example
 * (examples/basic/: config, lock and committed output), so the copy's pipeline has its per-stack jobs
 * whatever the team's config is. `prepare` may change files before the commit. Returns the directory.
 */
export function copyRepository(prepare?: (dir: string) => void): string {
  const dir = mkdtempSync(join(tmpdir(), "pipeline-repo-"));
  runOk("rsync", [
    "-a",
    "--exclude=/.git",
    "--exclude=/node_modules",
    "--exclude=/dist",
    "--exclude=/cdktf.out",
    "--exclude=/coverage",
    "--exclude=.gitlab-ci-local",
    "--exclude=/.gitlab-ci-local*",
    "--exclude=.terraform",
    "--exclude=*.tfstate",
    ...TEAM_FILES.map((file) => `--exclude=/${file}`),
    `${repoRoot}/`,
    `${dir}/`,
  ]);
  for (const file of ["gitlab-oidc.yaml", "gitlab-oidc.lock.yaml", "terraform"]) {
    cpSync(join(repoRoot, "examples", "basic", file), join(dir, file), { recursive: true });
  }
  const git = (...args: string[]) => runOk("git", [...GIT, ...args], { cwd: dir });
  git("init", "-q", "-b", "main");
  appendFileSync(join(dir, ".git", "info", "exclude"), "/node_modules\n/.gitlab-ci-local/\n");
  symlinkSync(join(repoRoot, "node_modules"), join(dir, "node_modules"));
  prepare?.(dir);
  git("add", "-A");
  git("commit", "-q", "--no-verify", "-m", "pipeline test");
  git("remote", "add", "origin", "git@gitlab.example.com:acme/platform/gitlab-oidc-aws.git");
  return dir;
}

/** gitlab-ci-local's state (logs, builds, artifacts) lives beside the copy, not in it where lint would see it. */
const stateDir = (dir: string) => `${dir}-gitlab-ci-local`;

export function removeRepository(dir: string): void {
  for (const path of [dir, stateDir(dir)])
    if (existsSync(path)) rmSync(path, { recursive: true, force: true });
}

export interface GclResult {
  readonly status: number | null;
  readonly output: string;
  readonly stdout: string;
}

/** The command line and environment of a gitlab-ci-local run in `dir` with `variables`. */
function gclInvocation(dir: string, args: string[], variables: Record<string, string>) {
  return {
    args: [
      ...args,
      "--state-dir",
      relative(dir, stateDir(dir)),
      ...Object.entries(variables).flatMap(([k, v]) => ["--variable", `${k}=${v}`]),
    ],
    options: {
      cwd: dir,
      env: {
        ...process.env,
        GCL_IGNORE_PREDEFINED_VARS: "CI_PIPELINE_SOURCE,CI_COMMIT_BRANCH,CI_DEFAULT_BRANCH",
        FORCE_COLOR: "0",
        NO_COLOR: "1",
      },
    },
  };
}

/** Runs gitlab-ci-local in `dir` with variables; predefined-variable overrides are intended here. */
export function runGitlabCiLocal(
  dir: string,
  args: string[],
  variables: Record<string, string> = {},
  /** Kill gitlab-ci-local and fail after this long. @default the running test's timeout */
  timeoutMs?: number,
): GclResult {
  const gcl = gclInvocation(dir, args, variables);
  const result = run(gitlabCiLocal, gcl.args, { ...gcl.options, timeoutMs });
  return { status: result.status, stdout: result.stdout, output: `${result.stdout}\n${result.stderr}` };
}

/**
 * runGitlabCiLocal without blocking the event loop: for jobs that talk to a stand-in served by the
 * test's own process.
 */
export async function runGitlabCiLocalAsync(
  dir: string,
  args: string[],
  variables: Record<string, string> = {},
  /** Kill gitlab-ci-local (and its children) and fail after this long. @default the test's timeout less run.ts's asyncMargin */
  timeoutMs?: number,
): Promise<GclResult> {
  const gcl = gclInvocation(dir, args, variables);
  const result = await runAsync(gitlabCiLocal, gcl.args, { ...gcl.options, timeoutMs });
  return { status: result.status, stdout: result.stdout, output: `${result.stdout}\n${result.stderr}` };
}

export interface ListedJob {
  name: string;
  stage: string;
  when: string;
  needs?: { job: string; artifacts?: boolean }[];
  rules?: { if?: string; when?: string }[];
}

/** The jobs of a pipeline as gitlab-ci-local decides them (`--list-json`), without when: never jobs. */
export function listJobs(dir: string, variables: Record<string, string>): ListedJob[] {
  const result = runGitlabCiLocal(dir, ["--list-json"], variables);
  if (result.status !== 0) throw new Error(`gitlab-ci-local --list-json failed:\n${result.output}`);
  const json = result.stdout.slice(result.stdout.search(/^\[/m));
  return (JSON.parse(json) as ListedJob[]).filter((job) => job.when !== "never");
}

/** The whole pipeline with includes, extends and !reference expanded (`--preview`). */
export function previewPipeline(
  dir: string,
  variables: Record<string, string> = {},
): Record<string, unknown> {
  const result = runGitlabCiLocal(dir, ["--preview"], variables);
  if (result.status !== 0) throw new Error(`gitlab-ci-local --preview failed:\n${result.output}`);
  return parseCiYaml(result.stdout.slice(result.stdout.search(/^---$/m))) as Record<string, unknown>;
}
