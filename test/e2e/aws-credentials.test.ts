/**
 * End to end: the aws-credentials CI/CD component (templates/aws-credentials.yml) run by gitlab-ci-local
 * with the real AWS CLI v2 against a local STS stand-in that evaluates the trust policies this project
 * synthesized into terraform/.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { StsStandIn } from "../support/sts-stand-in";
import {
  componentScript,
  createConsumerRepo,
  expectNoSecrets as expectNoSecretsIn,
  missingPrerequisites,
  PRODUCTION_ROLE,
  runJobs,
  STAGING_ROLE,
  type JobRun,
} from "../support/ci-local";
import { stsRuleSetDataPath as ruleSetDataPath } from "../support/component-shell";
import { exampleLock, synthesizedExample } from "../support/example";

const sub = (project: string, ref: string, refType = "branch"): string =>
  `project_path:${project}:ref_type:${refType}:ref:${ref}`;
/** Small retry delays so retry tests stay fast. */
const FAST_RETRIES = { AWS_CREDENTIALS_RETRY_BASE_DELAY: "0.05", AWS_CREDENTIALS_RETRY_MAX_DELAY: "0.2" };

jest.setTimeout(60_000);

let sts: StsStandIn;
const runtimes: string[] = [];
const tempDirs: string[] = [];
/** A temporary directory removed after the run. */
const tempDir = (prefix: string): string => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
};

beforeAll(async () => {
  const missing = missingPrerequisites();
  if (missing.length > 0) {
    throw new Error(`the aws-credentials e2e tests need: ${missing.join(", ")} (.ci/run installs them)`);
  }
  // The example (its copy in test/fixtures), synthesized: never the team's terraform/.
  sts = await StsStandIn.start((await synthesizedExample()).dir, exampleLock());
});

afterAll(async () => {
  await sts?.close();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  if (process.env.E2E_TIMINGS) console.log(runtimes.join("\n")); // E2E_TIMINGS=1 npx jest test/e2e
});

beforeEach(() => {
  sts.calls.length = 0;
  sts.clearInjectedFailures();
});

async function run(
  options: { project?: string; branch: string; token: string; jobs: string[]; validateSchema?: boolean },
  variables: Record<string, string> = {},
): Promise<JobRun & { log: string }> {
  const repo = createConsumerRepo({ projectPath: options.project ?? "acme/web", branch: options.branch });
  tempDirs.push(dirname(repo.dir));
  const result = await runJobs(
    repo,
    options.jobs,
    {
      STS_ENDPOINT: sts.url,
      AWS_ID_TOKEN: options.token,
      ...variables,
    },
    { validateSchema: options.validateSchema ?? false },
  );
  runtimes.push(`${expect.getState().currentTestName}: ${result.durationMs} ms`);
  if (process.env.E2E_LOGS) console.log(result.output);
  return { ...result, log: `${result.output}\n${result.jobLogs}` };
}

/** Everything secret this run handed out must be absent from the job log. */
const expectNoSecrets = (log: string, token: string): void => expectNoSecretsIn(log, token, sts.issued);

describe("exports mode", () => {
  it("gives a job on an allowed branch working credentials for the role", async () => {
    // GIVEN a token for acme/web on a feature branch, which the staging role allows (any branch)
    const token = sts.mintToken({ sub: sub("acme/web", "feature/login") });

    // WHEN the consumer job that extends .aws-credentials runs
    const result = await run({
      branch: "feature/login",
      token,
      jobs: ["staging-exports"],
      validateSchema: true,
    });

    // THEN the job passes, and the AWS CLI in the job's script is the assumed role
    expect(result.exitCode).toBe(0);
    expect(result.log).toContain(`caller=arn:aws:sts::222222222222:assumed-role/gitlab-deploy-web/gitlab-`);
    expect(result.log).toContain("region=eu-west-1 default_region=eu-west-1 expiration=20");
    // AND STS saw one call with the inputs' duration and a valid session name
    const [call] = sts.assumeCalls();
    expect(sts.assumeCalls()).toHaveLength(1);
    expect(call).toMatchObject({ roleArn: STAGING_ROLE, durationSeconds: "900", outcome: "Success" });
    expect(call!.roleSessionName).toMatch(/^[\w+=,.@-]{2,64}$/);
    // AND neither the ID token nor the secret key nor the session token appears in the log
    expect(sts.issued).toHaveLength(1);
    expectNoSecrets(result.log, token);
  });

  it("fails a disallowed branch with AccessDenied and explains why, naming the claims and the role", async () => {
    // GIVEN a token for acme/web on a feature branch; production allows only main and release/*
    const token = sts.mintToken({ sub: sub("acme/web", "feature/x"), environment: "production" });

    // WHEN the production job runs, with the awk base64 decoder forced (the dash test below uses base64 -d)
    const result = await run(
      { branch: "feature/x", token, jobs: ["production-exports"] },
      { AWS_CREDENTIALS_FORCE_AWK_BASE64: "1" },
    );

    // THEN the job fails, after exactly one STS call (AccessDenied is not retried)
    expect(result.exitCode).not.toBe(0);
    expect(sts.assumeCalls().map((c) => c.outcome)).toEqual(["AccessDenied"]);
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
    expectNoSecrets(result.log, token);
  });

  it("retries transient STS errors with backoff and then succeeds", async () => {
    // GIVEN main of acme/web (allowed by production) and STS failing twice: IDPCommunicationError, then 503
    const token = sts.mintToken({ sub: sub("acme/web", "main") });
    sts.injectFailures("IDPCommunicationError", 1);
    sts.injectFailures("ServiceUnavailable", 1);

    // WHEN the production job runs with small retry delays
    const result = await run({ branch: "main", token, jobs: ["production-exports"] }, FAST_RETRIES);

    // THEN the third attempt succeeds and the job has the production role
    expect(result.exitCode).toBe(0);
    expect(sts.assumeCalls().map((c) => c.outcome)).toEqual([
      "IDPCommunicationError",
      "ServiceUnavailable",
      "Success",
    ]);
    expect(result.log).toContain("caller=arn:aws:sts::111111111111:assumed-role/gitlab-deploy-web/");
    expect(result.log).toMatch(/transient error IDPCommunicationError; retrying in 0\.\d+s/);
    expectNoSecrets(result.log, token);
  });

  it("stops retrying at the attempt bound and fails the job", async () => {
    // GIVEN STS that keeps throttling, and at most 3 attempts
    const token = sts.mintToken({ sub: sub("acme/web", "main") });
    sts.injectFailures("Throttling", 50);

    // WHEN the job runs
    const result = await run(
      { branch: "main", token, jobs: ["staging-exports"] },
      { ...FAST_RETRIES, AWS_CREDENTIALS_MAX_ATTEMPTS: "3" },
    );

    // THEN exactly 3 calls were made and the job failed saying so; the script after it never ran
    expect(result.exitCode).not.toBe(0);
    expect(sts.assumeCalls()).toHaveLength(3);
    expect(result.log).toContain("gave up after 3 attempts (Throttling)");
    expect(result.log).not.toContain("caller=");
  });

  it("stops retrying when the next delay would exceed the total time bound", async () => {
    // GIVEN dropped connections and a total time bound smaller than the first delay
    const token = sts.mintToken({ sub: sub("acme/web", "main") });
    sts.injectFailures("drop", 50);

    // WHEN the job runs with many attempts allowed but AWS_CREDENTIALS_RETRY_MAX_TIME=1 and 2 s base delay
    const result = await run(
      { branch: "main", token, jobs: ["staging-exports"] },
      {
        AWS_CREDENTIALS_RETRY_BASE_DELAY: "4",
        AWS_CREDENTIALS_MAX_ATTEMPTS: "10",
        AWS_CREDENTIALS_RETRY_MAX_TIME: "1",
      },
    );

    // THEN it gave up after the first attempt, naming the time bound
    expect(result.exitCode).not.toBe(0);
    expect(sts.assumeCalls().map((c) => c.outcome)).toEqual(["drop"]);
    expect(result.log).toContain("would exceed AWS_CREDENTIALS_RETRY_MAX_TIME=1s");
  });

  it("does not retry an expired token and says what it means", async () => {
    // GIVEN an expired token
    const token = sts.mintToken({ sub: sub("acme/web", "main"), expiresIn: -60 });

    // WHEN the job runs
    const result = await run({ branch: "main", token, jobs: ["staging-exports"] }, FAST_RETRIES);

    // THEN one call, ExpiredTokenException, and a plain-words hint
    expect(result.exitCode).not.toBe(0);
    expect(sts.assumeCalls().map((c) => c.outcome)).toEqual(["ExpiredTokenException"]);
    expect(result.log).toContain("ExpiredToken: the ID token expired");
  });

  it("keeps a session name built from very long and odd ids valid", async () => {
    // GIVEN odd, very long CI ids
    const token = sts.mintToken({ sub: sub("acme/web", "main") });

    // WHEN the job runs with them
    const result = await run(
      { branch: "main", token, jobs: ["staging-credentials-only"] },
      {
        CI_JOB_ID: "9".repeat(40),
        CI_PIPELINE_ID: "12 34/56:78*?",
        CI_PROJECT_ID: "ünïcode~and^more",
      },
    );

    // THEN STS accepted the session name: [\w+=,.@-], 2–64 characters, starting with the job id
    expect(result.exitCode).toBe(0);
    expect(result.log).toContain("credentials exported: key secret session-token");
    expect(sts.assumeCalls().map((c) => c.outcome)).toEqual(["Success"]);
    const name = sts.assumeCalls()[0]!.roleSessionName!;
    expect(name).toMatch(/^[\w+=,.@-]{2,64}$/);
    expect(name).toHaveLength(64);
    expect(name.startsWith(`gitlab-${"9".repeat(40)}-12-34-56-78--`)).toBe(true);
  });

  it("names what is missing: no ID token, no AWS CLI", async () => {
    // GIVEN a job without a token
    const noToken = await run({ branch: "main", token: "", jobs: ["staging-exports"] });
    // THEN it fails telling to add id_tokens, without calling STS
    expect(noToken.exitCode).not.toBe(0);
    expect(noToken.log).toContain("no ID token in AWS_ID_TOKEN: add 'id_tokens:");
    expect(sts.assumeCalls()).toHaveLength(0);

    // GIVEN a token but an image without the AWS CLI (simulated by a CLI name that does not exist)
    const token = sts.mintToken({ sub: sub("acme/web", "main") });
    const noCli = await run(
      { branch: "main", token, jobs: ["staging-exports"] },
      { AWS_CREDENTIALS_AWS_CLI: "/opt/not-installed/bin/aws" },
    );
    // THEN it fails naming the image need and the web-identity alternative
    expect(noCli.exitCode).not.toBe(0);
    expect(noCli.log).toContain("is not on PATH: mode exports needs an image with the AWS CLI v1 or v2");
    expect(noCli.log).toContain("use mode web-identity");
    expect(sts.assumeCalls()).toHaveLength(0);
  });

  it("works through !reference [.aws-credentials-script, script] in a job's own script", async () => {
    // GIVEN an allowed token
    const token = sts.mintToken({ sub: sub("acme/web", "main") });
    // WHEN the job that only references the script runs (defaults: us-east-1, 3600 s)
    const result = await run({ branch: "main", token, jobs: ["reference-script"] });
    // THEN it has the staging role, with the script's defaults
    expect(result.exitCode).toBe(0);
    expect(result.log).toContain("caller=arn:aws:sts::222222222222:assumed-role/gitlab-deploy-web/");
    expect(sts.assumeCalls()[0]).toMatchObject({ durationSeconds: "3600", outcome: "Success" });
    expectNoSecrets(result.log, token);
  });
});

describe("the script under dash (POSIX sh), outside gitlab-ci-local", () => {
  /** Async: the stand-in answers from this process, so a synchronous spawn would deadlock. */
  const dash = (script: string, env: Record<string, string>) =>
    new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn("/bin/dash", ["-c", script], {
        env: {
          PATH: "/usr/bin:/bin",
          HOME: tempDir("aws-credentials-home-"),
          AWS_CONFIG_FILE: "/dev/null",
          AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
          AWS_EC2_METADATA_DISABLED: "true",
          AWS_CREDENTIALS_STS_ENDPOINT: sts.url,
          AWS_CREDENTIALS_REGION: "eu-west-1",
          ...env,
        },
      });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
      child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      child.on("close", (status) => resolve({ status, stdout, stderr }));
    });

  it("exports working credentials and keeps the shell going on success", async () => {
    // GIVEN an allowed token for the production role (main of acme/web)
    const token = sts.mintToken({ sub: sub("acme/web", "main") });
    // WHEN dash runs the script followed by a command using the credentials
    const result = await dash(
      `${componentScript()}\necho "caller=$(aws sts get-caller-identity --endpoint-url "$AWS_CREDENTIALS_STS_ENDPOINT" --query Arn --output text)"`,
      {
        AWS_ID_TOKEN: token,
        AWS_CREDENTIALS_ROLE_ARN: PRODUCTION_ROLE,
        CI_JOB_ID: "1",
        CI_PIPELINE_ID: "2",
        CI_PROJECT_ID: "3",
      },
    );
    // THEN the following command runs as the assumed role, and nothing secret was printed
    expect(result.status).toBe(0);
    expect(result.stdout).toContain(
      "caller=arn:aws:sts::111111111111:assumed-role/gitlab-deploy-web/gitlab-1-2-3",
    );
    expectNoSecrets(result.stdout + result.stderr, token);
  });

  it("exits non-zero on a denied role, so nothing after it runs", async () => {
    // GIVEN a tag token, which the staging role (branches only) does not allow
    const token = sts.mintToken({ sub: sub("acme/web", "v1.0.0", "tag") });
    // WHEN dash runs the script followed by another command
    const result = await dash(`${componentScript()}\necho AFTER`, {
      AWS_ID_TOKEN: token,
      AWS_CREDENTIALS_ROLE_ARN: STAGING_ROLE,
    });
    // THEN the shell exited 1 at the script and the diagnosis names the tag sub
    expect(result.status).toBe(1);
    expect(result.stdout).not.toContain("AFTER");
    expect(result.stderr).toContain("sub:             project_path:acme/web:ref_type:tag:ref:v1.0.0");
    expect(sts.assumeCalls().map((c) => c.outcome)).toEqual(["AccessDenied"]);
  });
});

describe("web-identity mode", () => {
  /**
   * The AWS CLI 2.9 cannot be pointed at another STS endpoint for its own web-identity assume call
   * (no AWS_ENDPOINT_URL_STS / endpoint_url before 2.13). Its botocore loads endpoint rule sets from
   * AWS_DATA_PATH first, so a one-rule set sending every STS call to the stand-in makes the CLI's own
   * AssumeRoleWithWebIdentity reach it.
   */
  const stsRuleSetDataPath = (): string => ruleSetDataPath(tempDir("aws-credentials-data-"), sts.url);

  it("exports the role and a private token file, and the AWS CLI assumes the role by itself", async () => {
    // GIVEN an allowed token, and the CLI's STS endpoint rule set pointing at the stand-in
    const token = sts.mintToken({ sub: sub("acme/web", "feature/login") });

    // WHEN the web-identity job runs
    const result = await run(
      { branch: "feature/login", token, jobs: ["staging-web-identity"] },
      { AWS_DATA_PATH: stsRuleSetDataPath() },
    );

    // THEN the component exported the variables and wrote the token to a 600 file outside the checkout
    expect(result.exitCode).toBe(0);
    expect(result.log).toContain("no static keys");
    expect(result.log).toMatch(
      new RegExp(`role_arn=${STAGING_ROLE} session=gitlab-[\\w+=,.@-]+ region=eu-west-1`),
    );
    expect(result.log).toMatch(/token_file=\S+\/aws-credentials\.\w+\/web-identity-token mode=600/);
    expect(result.log).toContain("token file holds the ID token");
    expect(result.log).toContain("token file outside the checkout");
    // AND the CLI's own AssumeRoleWithWebIdentity (not the component) got the role
    expect(result.log).toContain("caller=arn:aws:sts::222222222222:assumed-role/gitlab-deploy-web/gitlab-");
    expect(sts.assumeCalls()).toHaveLength(1);
    expectNoSecrets(result.log, token);
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
