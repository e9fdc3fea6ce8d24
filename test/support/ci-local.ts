/**
 * TEST SUPPORT ONLY: runs jobs of a consumer pipeline with gitlab-ci-local (GitLab's pipeline runner
 * emulator) in a throw-away git repository, with the shell executor and the real AWS CLI.
 */
import { spawn } from "node:child_process";
import { execFileSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";

export const repoRoot = join(__dirname, "..", "..");
export const componentFile = join(repoRoot, "templates", "aws-credentials.yml");
export const consumerFixture = join(repoRoot, "test", "fixtures", "consumer", ".gitlab-ci.yml");
const gitlabCiLocal = join(repoRoot, "node_modules", ".bin", "gitlab-ci-local");

/** The example config's roles (test/fixtures/configs/example.yaml, synthesized), as the component's tests use them. */
export const STAGING_ROLE = "arn:aws:iam::222222222222:role/gitlab/gitlab-deploy-web";
export const PRODUCTION_ROLE = "arn:aws:iam::111111111111:role/gitlab/gitlab-deploy-web";
/** The sessions of those roles, as GetCallerIdentity names them (without the session name). */
export const STAGING_SESSION = "arn:aws:sts::222222222222:assumed-role/gitlab-deploy-web/";
export const PRODUCTION_SESSION = "arn:aws:sts::111111111111:assumed-role/gitlab-deploy-web/";

/** Nothing secret appears in `log`: the ID token, its signature, or any key or session token STS issued. */
export function expectNoSecrets(
  log: string,
  token: string,
  issued: readonly { secretAccessKey: string; sessionToken: string }[],
): void {
  expect(log).not.toContain(token);
  expect(log).not.toContain(token.split(".")[2]!); // the signature alone
  for (const credentials of issued) {
    expect(log).not.toContain(credentials.secretAccessKey);
    expect(log).not.toContain(credentials.sessionToken);
  }
}

/** What the e2e tests need on the machine, with the Debian package that provides it. */
export function missingPrerequisites(): string[] {
  const missing: string[] = [];
  if (!existsSync("/usr/bin/aws")) missing.push("/usr/bin/aws (apt-get install awscli)");
  if (!["/usr/bin/rsync", "/bin/rsync", "/usr/local/bin/rsync"].some((p) => existsSync(p))) {
    missing.push("rsync (apt-get install rsync)");
  }
  if (!existsSync("/usr/bin/busybox")) missing.push("/usr/bin/busybox (apt-get install busybox)");
  if (!existsSync("/usr/lib/git-core/git-http-backend"))
    missing.push("git http-backend (apt-get install git)");
  if (!existsSync(gitlabCiLocal))
    missing.push(`${gitlabCiLocal} (npm ci installs the gitlab-ci-local devDependency)`);
  return missing;
}

export interface ConsumerRepo {
  readonly dir: string;
}

/**
 * A git repo like a consumer project: on `branch`, holding `pipeline` (default: the fixture pipeline) as
 * .gitlab-ci.yml, with `origin` (default git@gitlab.com:<projectPath>.git; gitlab-ci-local derives the
 * project path, and where `include: component:` clones from, from it). With `copyComponent` (the default)
 * templates/aws-credentials.yml is copied in, for pipelines that use `include: local`.
 */
export function createConsumerRepo(options: {
  projectPath: string;
  branch: string;
  pipeline?: string;
  origin?: string;
  copyComponent?: boolean;
}): ConsumerRepo {
  const base = mkdtempSync(join(tmpdir(), "aws-credentials-e2e-"));
  const dir = join(base, "repo");
  mkdirSync(dir, { recursive: true });
  if (options.copyComponent ?? true) {
    mkdirSync(join(dir, "templates"));
    cpSync(componentFile, join(dir, "templates", "aws-credentials.yml"));
  }
  writeFileSync(join(dir, ".gitlab-ci.yml"), options.pipeline ?? readFileSync(consumerFixture, "utf8"));
  const git = (...args: string[]): void => {
    execFileSync("git", ["-c", "user.email=e2e@example.com", "-c", "user.name=e2e", ...args], {
      cwd: dir,
      stdio: "ignore",
    });
  };
  git("init", "-q", "-b", options.branch);
  git("remote", "add", "origin", options.origin ?? `git@gitlab.com:${options.projectPath}.git`);
  git("add", "-A");
  git("commit", "-q", "-m", "consumer");
  return { dir };
}

export interface JobRun {
  readonly exitCode: number;
  /** gitlab-ci-local's stdout + stderr, which includes every job's log lines. */
  readonly output: string;
  /** The per-job log files gitlab-ci-local writes, concatenated. */
  readonly jobLogs: string;
  readonly durationMs: number;
}

/**
 * The environment gitlab-ci-local runs consumer jobs in: the real AWS CLI v2 (Debian awscli) first on
 * PATH, ahead of e.g. a pyenv shim named aws; a private HOME; no AWS config, credentials or metadata, and
 * none of the runner's own AWS credentials or roles.
 */
export function consumerJobEnv(home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: `/usr/bin:/bin:${process.env.PATH ?? ""}`,
    HOME: home,
    AWS_CONFIG_FILE: "/dev/null",
    AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
    AWS_EC2_METADATA_DISABLED: "true",
  };
  for (const key of Object.keys(env)) {
    if (
      /^AWS_(ACCESS_KEY_ID|SECRET_ACCESS_KEY|SESSION_TOKEN|PROFILE|ROLE_ARN|WEB_IDENTITY_TOKEN_FILE)$/.test(
        key,
      )
    )
      delete env[key];
  }
  return env;
}

/** Runs `jobs` with gitlab-ci-local; `variables` are passed as --variable (they override job variables). */
export async function runJobs(
  repo: ConsumerRepo,
  jobs: string[],
  variables: Record<string, string>,
  { validateSchema = false }: { validateSchema?: boolean } = {},
): Promise<JobRun> {
  const args = ["--home", join(repo.dir, "..", "home"), "--no-color", "--concurrency", "1"];
  // The schema test validates the YAML with ajv; gitlab-ci-local's own check (≈1 s) runs once, on request.
  if (!validateSchema) args.push("--no-json-schema-validation");
  for (const [name, value] of Object.entries(variables)) args.push("--variable", `${name}=${value}`);
  args.push(...jobs);
  const started = Date.now();
  const env = consumerJobEnv(join(repo.dir, "..", "home"));
  mkdirSync(env.HOME!, { recursive: true });
  const child = spawn(gitlabCiLocal, args, { cwd: repo.dir, env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr.on("data", (d: Buffer) => (output += d.toString()));
  const exitCode = await new Promise<number>((resolve) => child.on("close", (code) => resolve(code ?? -1)));
  const logDir = join(repo.dir, ".gitlab-ci-local", "output");
  const jobLogs = existsSync(logDir)
    ? readdirSync(logDir)
        .map((f) => readFileSync(join(logDir, f), "utf8"))
        .join("\n")
    : "";
  return { exitCode, output, jobLogs, durationMs: Date.now() - started };
}

/** The component's credential script, taken from the template (the one copy of its source). */
export function componentScript(): string {
  const [, body] = parseAllDocuments(readFileSync(componentFile, "utf8"), {
    customTags: [{ tag: "!reference", collection: "seq", resolve: (seq) => seq }],
  }) as unknown as { toJS(): Record<string, { script: string[] }> }[];
  return body!.toJS()[".aws-credentials-script"]!.script[0]!;
}
