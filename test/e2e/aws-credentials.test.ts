/**
 * End to end: the aws-credentials CI/CD component (templates/aws-credentials.yml) run by gitlab-ci-local
 * with the real AWS CLI v2 against a local STS stand-in that evaluates the trust policies this project
 * synthesized (the example's copy in test/fixtures). One consumer repository and ONE gitlab-ci-local run
 * for every scenario: each is a job of the consumer pipeline (test/fixtures/consumer/.gitlab-ci.yml) with
 * its own token and variables, read back from its own log; STS failures are injected per job by the
 * job's role session name.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { StsStandIn, type TokenClaims } from "../support/sts-stand-in";
import {
  componentScript,
  consumerFixture,
  createConsumerRepo,
  expectNoSecrets as expectNoSecretsIn,
  missingPrerequisites,
  PRODUCTION_ROLE,
  STAGING_ROLE,
} from "../support/ci-local";
import { stsRuleSetDataPath } from "../support/component-shell";
import { runPipeline, type JobOutcome, type PipelineRun } from "../support/consumer-pipeline";
import { exampleLock, synthesizedExample } from "../support/example";

const sub = (project: string, ref: string, refType = "branch"): string =>
  `project_path:${project}:ref_type:${refType}:ref:${ref}`;
/** Small retry delays so retry scenarios stay fast. */
const FAST_RETRIES = { AWS_CREDENTIALS_RETRY_BASE_DELAY: "0.05", AWS_CREDENTIALS_RETRY_MAX_DELAY: "0.2" };

/** A job of the consumer pipeline for one scenario. */
interface Scenario {
  /** The fixture's job it extends. */
  readonly extends: string;
  /** The ID token's claims; none: AWS_ID_TOKEN is empty. */
  readonly token?: TokenClaims;
  /** Its own variables (over the component's). */
  readonly variables?: Record<string, string>;
  /** Its role session name is the job's name (for injected failures and its STS calls); else derived. */
  readonly namedSession?: boolean;
}

const SCENARIOS: Record<string, Scenario> = {
  "feature-branch": { extends: "staging-exports", token: { sub: sub("acme/web", "feature/login") } },
  "denied-production": {
    extends: "production-exports",
    token: { sub: sub("acme/web", "feature/x"), environment: "production" },
    // The awk base64 decoder (images without base64 or openssl); the shell tests use base64 -d.
    variables: { AWS_CREDENTIALS_FORCE_AWK_BASE64: "1" },
    namedSession: true,
  },
  "transient-errors": {
    extends: "production-exports",
    token: { sub: sub("acme/web", "main") },
    variables: FAST_RETRIES,
    namedSession: true,
  },
  "attempt-bound": {
    extends: "staging-credentials-only",
    token: { sub: sub("acme/web", "main") },
    variables: { ...FAST_RETRIES, AWS_CREDENTIALS_MAX_ATTEMPTS: "2" },
    namedSession: true,
  },
  "time-bound": {
    extends: "staging-credentials-only",
    token: { sub: sub("acme/web", "main") },
    // Many attempts allowed, but a total time bound smaller than the first delay.
    variables: {
      AWS_CREDENTIALS_RETRY_BASE_DELAY: "4",
      AWS_CREDENTIALS_MAX_ATTEMPTS: "10",
      AWS_CREDENTIALS_RETRY_MAX_TIME: "1",
    },
    namedSession: true,
  },
  "expired-token": {
    extends: "staging-credentials-only",
    token: { sub: sub("acme/web", "main"), expiresIn: -60 },
    variables: FAST_RETRIES,
    namedSession: true,
  },
  "odd-ids": {
    extends: "staging-credentials-only",
    token: { sub: sub("acme/web", "main") },
    variables: {
      CI_JOB_ID: "9".repeat(40),
      CI_PIPELINE_ID: "12 34/56:78*?",
      CI_PROJECT_ID: "ünïcode~and^more",
    },
  },
  "no-token": { extends: "staging-exports", namedSession: true },
  "no-cli": {
    extends: "staging-exports",
    token: { sub: sub("acme/web", "main") },
    // An image without the AWS CLI, simulated by a CLI path that does not exist.
    variables: { AWS_CREDENTIALS_AWS_CLI: "/opt/not-installed/bin/aws" },
    namedSession: true,
  },
  "reference-only": { extends: "reference-script", token: { sub: sub("acme/web", "main") } },
  "web-identity": {
    extends: "staging-web-identity",
    token: { sub: sub("acme/web", "feature/login") },
    // The AWS CLI 2.9 takes no STS endpoint from the environment for its own web-identity call (no
    // AWS_ENDPOINT_URL_STS before 2.13); its botocore reads endpoint rule sets from AWS_DATA_PATH first.
    variables: { AWS_DATA_PATH: "$STS_DATA_PATH" },
  },
};

let sts: StsStandIn;
let pipeline: PipelineRun;
const tokens: Record<string, string> = {};
const tempDirs: string[] = [];
/** A temporary directory removed after the run. */
const tempDir = (prefix: string): string => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
};

/** The fixture pipeline and one job per scenario, each with its token and variables. */
function scenarioPipeline(): string {
  const jobs = Object.entries(SCENARIOS).map(([name, scenario]) => {
    const variables: Record<string, string> = {
      AWS_ID_TOKEN: tokens[name] ?? "",
      ...(scenario.namedSession ? { AWS_CREDENTIALS_SESSION_NAME: name } : {}),
      ...scenario.variables,
    };
    const lines = Object.entries(variables).map(([k, v]) => `    ${k}: ${JSON.stringify(v)}`);
    return `${name}:\n  extends: ${scenario.extends}\n  variables:\n${lines.join("\n")}\n`;
  });
  return `${readFileSync(consumerFixture, "utf8")}\n${jobs.join("\n")}`;
}

beforeAll(async () => {
  const missing = missingPrerequisites();
  if (missing.length > 0) {
    throw new Error(`the aws-credentials e2e tests need: ${missing.join(", ")} (.ci/run installs them)`);
  }
  // The example (its copy in test/fixtures), synthesized: never the team's terraform/.
  sts = await StsStandIn.start((await synthesizedExample()).dir, exampleLock());
  for (const [name, scenario] of Object.entries(SCENARIOS)) {
    if (scenario.token) tokens[name] = sts.mintToken(scenario.token);
  }
  sts.injectFailuresFor("transient-errors", "IDPCommunicationError", 1);
  sts.injectFailuresFor("transient-errors", "ServiceUnavailable", 1);
  sts.injectFailuresFor("attempt-bound", "Throttling", 50);
  sts.injectFailuresFor("time-bound", "drop", 50);
  const repo = createConsumerRepo({ projectPath: "acme/web", branch: "main", pipeline: scenarioPipeline() });
  tempDirs.push(dirname(repo.dir));
  pipeline = await runPipeline(
    repo,
    Object.keys(SCENARIOS),
    { STS_ENDPOINT: sts.url, STS_DATA_PATH: stsRuleSetDataPath(tempDir("aws-data-"), sts.url) },
    // gitlab-ci-local's own schema check, once for the whole pipeline.
    { validateSchema: true, timeoutMs: 240_000 },
  );
  if (process.env.E2E_LOGS) console.log(pipeline.output);
}, 300_000);

afterAll(async () => {
  await sts?.close();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

/**
 * The job's outcome and log, and its AssumeRoleWithWebIdentity calls: by its role session name, the job's
 * name or, when derived, the one its log names ("as session <name> (…", or its script's " session=<name> ").
 */
function scenario(name: string): JobOutcome & { calls: ReturnType<StsStandIn["assumeCalls"]> } {
  const job = pipeline.job(name);
  const session = SCENARIOS[name]!.namedSession
    ? name
    : /(?:as session | session=)([\w+=,.@-]+) /.exec(job.log)?.[1];
  return { ...job, calls: sts.assumeCalls().filter((c) => c.roleSessionName === session) };
}

/** Nothing secret this run handed out appears in the job's log: its token, any key or session token. */
const expectNoSecrets = (job: string): void =>
  expectNoSecretsIn(pipeline.job(job).log, tokens[job]!, sts.issued);

describe("exports mode", () => {
  it("gives a job on an allowed branch working credentials for the role", () => {
    // GIVEN a token for acme/web on a feature branch, which the staging role allows (any branch)
    // WHEN the consumer job that extends .aws-credentials runs
    const result = scenario("feature-branch");
    // THEN the job passes, and the AWS CLI in the job's script is the assumed role
    expect(result.status).toBe("passed");
    expect(result.log).toContain(`caller=arn:aws:sts::222222222222:assumed-role/gitlab-deploy-web/gitlab-`);
    expect(result.log).toContain("region=eu-west-1 default_region=eu-west-1 expiration=20");
    // AND STS saw one call with the inputs' duration and a valid session name
    expect(result.calls).toHaveLength(1);
    const [call] = result.calls;
    expect(call).toMatchObject({ roleArn: STAGING_ROLE, durationSeconds: "900", outcome: "Success" });
    expect(call!.roleSessionName).toMatch(/^[\w+=,.@-]{2,64}$/);
    // AND neither the ID token nor the secret key nor the session token appears in the log
    expectNoSecrets("feature-branch");
  });

  it("fails a disallowed branch with AccessDenied and explains why, naming the claims and the role", () => {
    // GIVEN a token for acme/web on a feature branch; production allows only main and release/*
    // WHEN the production job runs, with the awk base64 decoder forced
    const result = scenario("denied-production");
    // THEN the job fails, after exactly one STS call (AccessDenied is not retried)
    expect(result.status).toBe("failed");
    expect(result.calls.map((c) => c.outcome)).toEqual(["AccessDenied"]);
    expect(result.log).not.toContain("caller=");
    // AND the diagnosis shows the token's claims next to the role ARN, the usual causes and the explain command
    expect(result.log).toContain(`role:            ${PRODUCTION_ROLE}`);
    expect(result.log).toContain("iss:             https://gitlab.com");
    expect(result.log).toContain("sub:             project_path:acme/web:ref_type:branch:ref:feature/x");
    expect(result.log).toContain("aud:             sts.amazonaws.com");
    expect(result.log).toContain("ref_protected:   false");
    expect(result.log).toContain("pipeline_source: push");
    expect(result.log).toContain("environment:     production");
    expect(result.log).toMatch(/wildcard \(\*\) under StringEquals/);
    expect(result.log).toContain(
      `npm run explain -- --sub 'project_path:acme/web:ref_type:branch:ref:feature/x' --aud 'sts.amazonaws.com' --role '${PRODUCTION_ROLE}'`,
    );
    expectNoSecrets("denied-production");
  });

  it("retries transient STS errors with backoff and then succeeds", () => {
    // GIVEN main of acme/web (allowed by production) and STS failing twice: IDPCommunicationError, then 503
    // WHEN the production job runs with small retry delays
    const result = scenario("transient-errors");
    // THEN the third attempt succeeds and the job has the production role
    expect(result.status).toBe("passed");
    expect(result.calls.map((c) => c.outcome)).toEqual([
      "IDPCommunicationError",
      "ServiceUnavailable",
      "Success",
    ]);
    expect(result.log).toContain("caller=arn:aws:sts::111111111111:assumed-role/gitlab-deploy-web/");
    expect(result.log).toMatch(/transient error IDPCommunicationError; retrying in 0\.\d+s/);
    expectNoSecrets("transient-errors");
  });

  it("stops retrying at the attempt bound and fails the job", () => {
    // GIVEN STS that keeps throttling, and at most 2 attempts WHEN the job runs
    const result = scenario("attempt-bound");
    // THEN exactly 2 calls were made and the job failed saying so; the script after it never ran
    expect(result.status).toBe("failed");
    expect(result.calls.map((c) => c.outcome)).toEqual(["Throttling", "Throttling"]);
    expect(result.log).toContain("gave up after 2 attempts (Throttling)");
    expect(result.log).not.toContain("credentials exported");
  });

  it("stops retrying when the next delay would exceed the total time bound", () => {
    // GIVEN dropped connections, a 4 s base delay and AWS_CREDENTIALS_RETRY_MAX_TIME=1 WHEN the job runs
    const result = scenario("time-bound");
    // THEN it gave up after the first attempt, naming the time bound
    expect(result.status).toBe("failed");
    expect(result.calls.map((c) => c.outcome)).toEqual(["drop"]);
    expect(result.log).toContain("would exceed AWS_CREDENTIALS_RETRY_MAX_TIME=1s");
  });

  it("does not retry an expired token and says what it means", () => {
    // GIVEN an expired token WHEN the job runs
    const result = scenario("expired-token");
    // THEN one call, ExpiredTokenException, and a plain-words hint
    expect(result.status).toBe("failed");
    expect(result.calls.map((c) => c.outcome)).toEqual(["ExpiredTokenException"]);
    expect(result.log).toContain("ExpiredToken: the ID token expired");
  });

  it("keeps a session name built from very long and odd ids valid", () => {
    // GIVEN odd, very long CI ids WHEN the job runs with them
    const result = scenario("odd-ids");
    // THEN STS accepted the session name: [\w+=,.@-], 2–64 characters, starting with the job id
    expect(result.status).toBe("passed");
    expect(result.log).toContain("credentials exported: key secret session-token");
    expect(result.calls.map((c) => c.outcome)).toEqual(["Success"]);
    const name = result.calls[0]!.roleSessionName!;
    expect(name).toMatch(/^[\w+=,.@-]{2,64}$/);
    expect(name).toHaveLength(64);
    expect(name.startsWith(`gitlab-${"9".repeat(40)}-12-34-56-78--`)).toBe(true);
  });

  it("names what is missing: no ID token, no AWS CLI", () => {
    // GIVEN a job without a token THEN it fails telling to add id_tokens, without calling STS
    const noToken = scenario("no-token");
    expect(noToken.status).toBe("failed");
    expect(noToken.log).toContain("no ID token in AWS_ID_TOKEN: add 'id_tokens:");
    expect(noToken.calls).toHaveLength(0);
    // GIVEN a token but an image without the AWS CLI THEN it fails naming the image need and the alternative
    const noCli = scenario("no-cli");
    expect(noCli.status).toBe("failed");
    expect(noCli.log).toContain("is not on PATH: mode exports needs an image with the AWS CLI v1 or v2");
    expect(noCli.log).toContain("use mode web-identity");
    expect(noCli.calls).toHaveLength(0);
  });

  it("works through !reference [.aws-credentials-script, script] in a job's own script", () => {
    // GIVEN an allowed token WHEN the job that only references the script runs (its own region, 3600 s)
    const result = scenario("reference-only");
    // THEN it has the staging role, with the script's defaults
    expect(result.status).toBe("passed");
    expect(result.log).toContain("caller=arn:aws:sts::222222222222:assumed-role/gitlab-deploy-web/");
    expect(result.calls).toEqual([expect.objectContaining({ durationSeconds: "3600", outcome: "Success" })]);
    expectNoSecrets("reference-only");
  });

  it("every scenario ran in the one gitlab-ci-local run, and the pipeline failed for the failing ones", () => {
    for (const name of Object.keys(SCENARIOS)) expect(pipeline.job(name).log).not.toBe("");
    expect(pipeline.exitCode).not.toBe(0);
  });
});

describe("web-identity mode", () => {
  it("exports the role and a private token file, and the AWS CLI assumes the role by itself", () => {
    // GIVEN an allowed token, and the CLI's STS endpoint rule set pointing at the stand-in
    // WHEN the web-identity job runs
    const result = scenario("web-identity");
    // THEN the component exported the variables and wrote the token to a 600 file outside the checkout
    expect(result.status).toBe("passed");
    expect(result.log).toContain("no static keys");
    expect(result.log).toMatch(
      new RegExp(`role_arn=${STAGING_ROLE} session=gitlab-[\\w+=,.@-]+ region=eu-west-1`),
    );
    expect(result.log).toMatch(/token_file=\S+\/aws-credentials\.\w+\/web-identity-token mode=600/);
    expect(result.log).toContain("token file holds the ID token");
    expect(result.log).toContain("token file outside the checkout");
    // AND the CLI's own AssumeRoleWithWebIdentity (not the component) got the role
    expect(result.log).toContain("caller=arn:aws:sts::222222222222:assumed-role/gitlab-deploy-web/gitlab-");
    expect(result.calls).toHaveLength(1);
    expectNoSecrets("web-identity");
  });

  it("runs under dash (POSIX sh) with no AWS CLI on PATH", () => {
    // GIVEN the script from the template, and a PATH with only the POSIX tools it uses (no aws)
    const bin = tempDir("aws-credentials-bin-");
    const tools = [
      "mktemp",
      "tr",
      "cut",
      "chmod",
      "mkdir",
      "date",
      "od",
      "awk",
      "sed",
      "tail",
      "rm",
      "cat",
      "stat",
      "base64",
    ];
    for (const tool of tools) {
      const found = ["/usr/bin", "/bin"].map((d) => join(d, tool)).find((p) => existsSync(p));
      if (found) symlinkSync(found, join(bin, tool));
    }
    const token = sts.mintToken({ sub: sub("acme/web", "main") });
    const home = tempDir("aws-credentials-home-");

    // WHEN dash runs it in web-identity mode, then prints what it exported
    const result = spawnSync(
      "/bin/dash",
      [
        "-c",
        `${componentScript()}\ncommand -v aws || echo "no aws"; echo "role=$AWS_ROLE_ARN session=$AWS_ROLE_SESSION_NAME"; cat "$AWS_WEB_IDENTITY_TOKEN_FILE" | cut -c1-10; stat -c %a "$AWS_WEB_IDENTITY_TOKEN_FILE"`,
      ],
      {
        encoding: "utf8",
        env: {
          PATH: bin,
          AWS_ID_TOKEN: token,
          AWS_CREDENTIALS_ROLE_ARN: STAGING_ROLE,
          AWS_CREDENTIALS_MODE: "web-identity",
          AWS_CREDENTIALS_REGION: "eu-west-1",
          CI_PROJECT_DIR: join(home, "project"),
          CI_JOB_ID: "7",
          CI_PIPELINE_ID: "8",
          CI_PROJECT_ID: "9",
        },
      },
    );

    // THEN it succeeded without the CLI, exported the role and wrote the token (mode 600) outside the project
    expect(result.stderr).toContain("aws-credentials: web-identity: AWS_ROLE_ARN=");
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("no aws");
    expect(result.stdout).toContain(`role=${STAGING_ROLE} session=gitlab-7-8-9`);
    expect(result.stdout).toContain(`${token.slice(0, 10)}\n600`);
    expect(result.stderr).toContain(`token file ${join(home, "project")}.tmp/aws-credentials.`);
    expect(result.stderr + result.stdout).not.toContain(token);
  });
});
