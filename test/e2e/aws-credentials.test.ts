/**
 * End to end: the aws-credentials CI/CD component (templates/aws-credentials.yml) run by gitlab-ci-local
 * with the real AWS CLI v2 against a local STS stand-in that evaluates the trust policies this project
 * synthesized (the example's copy in test/fixtures). One consumer repository and ONE gitlab-ci-local run
 * for every scenario: each is a job of the consumer pipeline (test/fixtures/consumer/.gitlab-ci.yml) with
 * its own token and variables, read back from its own log (test/support/consumer-scenarios.ts); STS
 * failures are injected per job by the job's role session name. The retry bounds with the real CLI (STS
 * that keeps throttling, dropped connections) are the slow tier's: test/slow/aws-credentials-retries.test.ts.
 */
import { spawnSync } from "node:child_process";
import { existsSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { componentScript, PRODUCTION_ROLE, STAGING_ROLE } from "../support/ci-local";
import { FAST_RETRIES, sub, useScenarioRun, type Scenario } from "../support/consumer-scenarios";

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

const run = useScenarioRun(SCENARIOS, (sts) => {
  sts.injectFailuresFor("transient-errors", "IDPCommunicationError", 1);
  sts.injectFailuresFor("transient-errors", "ServiceUnavailable", 1);
});
const { scenario, expectNoSecrets, tempDir, mintToken } = run;

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
    for (const name of Object.keys(SCENARIOS)) expect(run.pipeline.job(name).log).not.toBe("");
    expect(run.pipeline.exitCode).not.toBe(0);
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
    const token = mintToken({ sub: sub("acme/web", "main") });
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
