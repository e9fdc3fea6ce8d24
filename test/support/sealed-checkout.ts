/**
 * TEST SUPPORT: a minimal checkout for the sealed launcher (src/pipeline/sealed-run.sh): the
 * pipeline's scripts and the component copied from this repository, a committed manifest
 * terraform/pipeline/<stack>.<step>.env per step, and a stack directory. Optionally a stub
 * sealed-step.sh that prints the environment it was started with (for the launcher's unit tests).
 */
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROLE_ARN_PLACEHOLDER, deployAudience } from "../../src/pipeline/stack-jobs";
import { repoRoot } from "./pipeline-repo";
import { run, type RunResult } from "./run";

export const STACK = "prod";
export const ACCOUNT = "111111111111";
export const PLAN_ROLE = `arn:aws:iam::${ACCOUNT}:role/gitlab/planner`;
export const DEPLOYER_ROLE = `arn:aws:iam::${ACCOUNT}:role/gitlab/deployer`;
export const JOB_TOKEN = "glcbt-64_job-token-for-tests";
export const PLAN_AUDIENCE = "sts.amazonaws.com";

/** An unsigned JWT with these claims (the launcher reads aud; STS checks signatures, not it). */
export function idToken(claims: Record<string, unknown>): string {
  const part = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
  return `${part({ alg: "RS256", typ: "JWT" })}.${part(claims)}.c2lnbmF0dXJl`;
}

export const SCRIPTS = [
  "sealed-run.sh",
  "sealed-step.sh",
  "require-head.sh",
  "plan-check.sh",
  "plan-summary.sh",
  "deletions-check.sh",
  "reviewed-plan-check.sh",
];

export interface SealedCheckoutOptions {
  /** The committed GitLab URL (state.url). */
  readonly gitlabUrl: string;
  /** Replace sealed-step.sh with a stub printing its environment. @default false */
  readonly stubStep?: boolean;
  /** Extra lines of the deploy manifest (e.g. a stand-in STS endpoint). @default none */
  readonly extraManifest?: readonly string[];
}

/** Creates the checkout; returns its directory (the caller removes it). */
export function sealedCheckout(options: SealedCheckoutOptions): string {
  const dir = mkdtempSync(join(tmpdir(), "sealed-checkout-"));
  mkdirSync(join(dir, "src", "pipeline"), { recursive: true });
  mkdirSync(join(dir, "templates"));
  mkdirSync(join(dir, "terraform", "pipeline"), { recursive: true });
  mkdirSync(join(dir, "terraform", "stacks", STACK), { recursive: true });
  for (const script of SCRIPTS) {
    copyFileSync(join(repoRoot, "src", "pipeline", script), join(dir, "src", "pipeline", script));
  }
  copyFileSync(
    join(repoRoot, "templates", "aws-credentials.yml"),
    join(dir, "templates", "aws-credentials.yml"),
  );
  if (options.stubStep) {
    writeFileSync(
      join(dir, "src", "pipeline", "sealed-step.sh"),
      '#!/bin/sh\necho "--- child environment"\nenv | LC_ALL=C sort\necho "--- secrets"\ncat "$SEALED_PRIVATE/secrets"\n',
    );
    chmodSync(join(dir, "src", "pipeline", "sealed-step.sh"), 0o755);
  }
  const common = [
    `GITLAB_URL=${options.gitlabUrl}`,
    `TF_ROOT=terraform/stacks/${STACK}`,
    `ACCOUNT_ID=${ACCOUNT}`,
    "AWS_CREDENTIALS_MODE=profiles",
    "AWS_CREDENTIALS_REGION=eu-west-1",
  ];
  const manifest = (lines: string[]) =>
    ["# test manifest", ...common, ...lines, ...(options.extraManifest ?? [])].join("\n") + "\n";
  writeFileSync(
    join(dir, "terraform", "pipeline", `${STACK}.plan.env`),
    manifest([
      `ROLE_VARIABLE=GITLAB_OIDC_PLAN_ROLE_ARN_PROD`,
      `AUDIENCE=${PLAN_AUDIENCE}`,
      `AWS_CREDENTIALS_PROFILES=[{"name":"gitlab-oidc-plan","role_arn":"${ROLE_ARN_PLACEHOLDER}","region":"eu-west-1"}]`,
      "AWS_CREDENTIALS_DEFAULT_PROFILE=gitlab-oidc-plan",
    ]),
  );
  writeFileSync(
    join(dir, "terraform", "pipeline", `${STACK}.deploy.env`),
    manifest([
      `ROLE_VARIABLE=GITLAB_OIDC_DEPLOY_ROLE_ARN_PROD`,
      `AUDIENCE=${deployAudience(STACK)}`,
      `AWS_CREDENTIALS_PROFILES=[{"name":"gitlab-oidc-deployer","role_arn":"${ROLE_ARN_PLACEHOLDER}","region":"eu-west-1"}]`,
      "AWS_CREDENTIALS_DEFAULT_PROFILE=gitlab-oidc-deployer",
    ]),
  );
  return dir;
}

/** The variables GitLab gives a plan or deploy job of the checkout (before any pipeline variable). */
export function jobEnvironment(
  dir: string,
  step: "plan" | "deploy",
  options: { gitlabUrl: string; sha: string },
): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: dir,
    CI_PROJECT_DIR: dir,
    CI_SERVER_URL: options.gitlabUrl,
    CI_COMMIT_SHA: options.sha,
    CI_JOB_ID: "101",
    CI_PIPELINE_ID: "202",
    CI_PROJECT_ID: "42",
    CI_JOB_TOKEN: JOB_TOKEN,
    // Runner-set and harmless names: not refused, not passed.
    CI_COMMIT_BRANCH: "main",
    CI_DEFAULT_BRANCH: "main",
    GIT_DEPTH: "20",
    STACK,
    AWS_ID_TOKEN: idToken({
      aud: step === "plan" ? PLAN_AUDIENCE : deployAudience(STACK),
      sub: "project_path:acme/app:ref_type:branch:ref:main",
    }),
    [step === "plan" ? "GITLAB_OIDC_PLAN_ROLE_ARN_PROD" : "GITLAB_OIDC_DEPLOY_ROLE_ARN_PROD"]:
      step === "plan" ? PLAN_ROLE : DEPLOYER_ROLE,
  };
}

/** The shells a job image may have, those installed here. */
export const SHELLS = [["dash"], ["busybox", "sh"], ["bash", "--posix"]].filter(
  ([cmd]) => run("sh", ["-c", `command -v ${cmd}`]).status === 0,
);

/** The GitLab URL and commit of the stub checkout's jobs (the launcher's unit tests and sweep). */
export const STUB_GITLAB = "https://gitlab.example.com";
const STUB_SHA = "0123456789abcdef0123456789abcdef01234567";

/**
 * Runs the launcher of a stub checkout (`sealedCheckout({ gitlabUrl: STUB_GITLAB, stubStep: true })`)
 * under `shell` with a job's environment changed by `extra` (undefined removes a variable).
 */
export function launchStub(
  dir: string,
  shell: string[],
  step: "plan" | "deploy",
  extra: Record<string, string | undefined> = {},
): RunResult {
  const env: Record<string, string> = {
    ...jobEnvironment(dir, step, { gitlabUrl: STUB_GITLAB, sha: STUB_SHA }),
  };
  for (const [name, value] of Object.entries(extra)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return run(shell[0]!, [...shell.slice(1), join(dir, "src", "pipeline", "sealed-run.sh"), step], {
    cwd: dir,
    env,
    timeoutMs: 20_000,
  });
}
