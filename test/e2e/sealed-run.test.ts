/**
 * The sealed launcher, src/pipeline/sealed-run.sh, as a unit: the script itself under dash, BusyBox sh
 * and bash, in a minimal checkout whose step is a stub printing the environment it was started with.
 * - every variable known to steer a tool is refused, by name, and the step never starts;
 * - the values it takes from the job are checked (CI_SERVER_URL against the committed URL, the role's
 *   account, the token's audience, CI_PROJECT_DIR, the component's settings against the manifest);
 * - the child gets only the allowlist, with the committed settings, and the secrets through a file.
 * The breadth (many more names, more shells' quirks) is in test/slow/sealed-run-sweep.test.ts.
 */
import { rmSync } from "node:fs";
import { deployAudience } from "../../src/pipeline/stack-jobs";
import {
  ACCOUNT,
  DEPLOYER_ROLE,
  JOB_TOKEN,
  PLAN_ROLE,
  STACK,
  SHELLS,
  STUB_GITLAB,
  idToken,
  launchStub,
  sealedCheckout,
} from "../support/sealed-checkout";
import { OVERRIDES, STEERING } from "../support/sealed-hostile";

let dir: string;
beforeAll(() => {
  // GIVEN a checkout with the committed manifests of stack prod and a stub step
  dir = sealedCheckout({ gitlabUrl: STUB_GITLAB, stubStep: true });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const launch = (shell: string[], step: "plan" | "deploy", extra: Record<string, string | undefined> = {}) =>
  launchStub(dir, shell, step, extra);

describe.each(SHELLS)("sealed-run.sh under %s", (...shell) => {
  test.each(["plan", "deploy"] as const)(
    "%s: refuses every steering variable of issue 18, each by name",
    (step) => {
      // WHEN the job runs with all of them set (test/slow/ sets them one at a time)
      const result = launch(shell, step, Object.fromEntries(STEERING));
      // THEN it fails naming each, and the step never started
      expect(result.status).toBe(1);
      const refused =
        /refusing to run \w+: these variables are set and would change what the job does: ([^.]*)\./.exec(
          result.stderr,
        );
      expect(refused?.[1]?.split(" ").sort()).toEqual(STEERING.map(([name]) => name).sort());
      expect(result.stdout).not.toContain("--- child environment");
    },
  );

  test("refuses the component settings that differ from the committed manifest, each by name", () => {
    const result = launch(shell, "deploy", Object.fromEntries(OVERRIDES));
    expect(result.status).toBe(1);
    const refused = /differ from the committed terraform\/pipeline\/prod\.deploy\.env: ([^(]*) \(/.exec(
      result.stderr,
    );
    expect(refused?.[1]?.split(" ").sort()).toEqual(OVERRIDES.map(([name]) => name).sort());
    expect(result.stdout).not.toContain("--- child environment");
  });

  test.each([
    [
      "CI_SERVER_URL pointed elsewhere",
      { CI_SERVER_URL: "https://evil.example" },
      /CI_SERVER_URL .* is not the committed GitLab instance/,
    ],
    [
      "a role in another account",
      { GITLAB_OIDC_DEPLOY_ROLE_ARN_PROD: "arn:aws:iam::999999999999:role/gitlab/deployer" },
      /account 999999999999, but stack prod is account 111111111111/,
    ],
    [
      "a role variable that is no ARN",
      { GITLAB_OIDC_DEPLOY_ROLE_ARN_PROD: "x" },
      /GITLAB_OIDC_DEPLOY_ROLE_ARN_PROD is not set to an IAM role ARN/,
    ],
    [
      "another stack's deploy token",
      { AWS_ID_TOKEN: idToken({ aud: deployAudience("staging") }) },
      /audience 'gitlab-oidc-aws-deploy-staging', not gitlab-oidc-aws-deploy-prod/,
    ],
    ["a token that is no JWT", { AWS_ID_TOKEN: "not-a-token" }, /AWS_ID_TOKEN is not a JWT/],
    ["CI_PROJECT_DIR elsewhere", { CI_PROJECT_DIR: "/tmp" }, /CI_PROJECT_DIR '\/tmp' is not the checkout/],
    [
      "a stack without a manifest",
      { STACK: "staging" },
      /terraform\/pipeline\/staging\.deploy\.env is not committed/,
    ],
    ["a stack name with a path in it", { STACK: "../x" }, /STACK '\.\.\/x' is not a stack name/],
    ["a commit SHA that is none", { CI_COMMIT_SHA: "main" }, /CI_COMMIT_SHA 'main' is not a commit SHA/],
    ["a job token with a newline", { CI_JOB_TOKEN: "a\nb" }, /CI_JOB_TOKEN holds a control character/],
  ] as [string, Record<string, string>, RegExp][])("refuses %s", (_what, extra, message) => {
    const result = launch(shell, "deploy", extra);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(message);
    expect(result.stdout).not.toContain("--- child environment");
  });

  test("starts the step from an empty environment: the allowlist, the committed settings, the secrets in a file", () => {
    // WHEN a deploy job runs with only the job's variables and some harmless unknown ones
    const result = launch(shell, "deploy", { SOME_PROJECT_VARIABLE: "x", CI_DEFAULT_BRANCH: "evil" });
    expect(result.stderr).not.toMatch(/ERROR/);
    expect(result.status).toBe(0);
    const [environment, secrets] = result.stdout.split("--- secrets\n");
    const names = environment!
      .split("\n")
      .filter((l) => /^[A-Za-z_][A-Za-z0-9_]*=/.test(l))
      .map((l) => l.split("=")[0]);
    // THEN the child saw exactly the allowlist (the shell may add PWD, SHLVL, _)
    expect(names.filter((n) => !["PWD", "SHLVL", "_", "OLDPWD"].includes(n!)).sort()).toEqual(
      [
        "AWS_CREDENTIALS_DEFAULT_PROFILE",
        "AWS_CREDENTIALS_MODE",
        "AWS_CREDENTIALS_PROFILES",
        "AWS_CREDENTIALS_REGION",
        "AWS_CREDENTIALS_STS_ENDPOINT",
        "CI_COMMIT_SHA",
        "CI_JOB_ID",
        "CI_PIPELINE_ID",
        "CI_PROJECT_DIR",
        "CI_PROJECT_ID",
        "CI_SERVER_URL",
        "HOME",
        "LC_ALL",
        "PATH",
        "SEALED_PRIVATE",
        "SEALED_STEP",
        "STACK",
        "STATE_TYPE",
        "TF_ROOT",
        "TMPDIR",
      ].sort(),
    );
    // AND the committed settings, with the checked role ARN in the committed profile
    expect(environment).toContain("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n");
    expect(environment).toContain(`TF_ROOT=terraform/stacks/${STACK}\n`);
    expect(environment).toContain(
      `AWS_CREDENTIALS_PROFILES=[{"name":"gitlab-oidc-deployer","role_arn":"${DEPLOYER_ROLE}","region":"eu-west-1"}]\n`,
    );
    expect(environment).not.toContain("evil");
    expect(environment).not.toContain(JOB_TOKEN);
    expect(environment).not.toContain(PLAN_ROLE);
    // AND the two secrets only in the private file
    expect(secrets).toContain(`${JOB_TOKEN}\n`);
    expect(secrets!.split("\n")[0]).toMatch(/^ey/);
    expect(ACCOUNT).toBe("111111111111");
  });

  test("a component setting equal to the committed one is not an override", () => {
    const result = launch(shell, "plan", {
      AWS_CREDENTIALS_REGION: "eu-west-1",
      AWS_CREDENTIALS_STS_ENDPOINT: "",
    });
    expect(result.stderr).not.toMatch(/ERROR/);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain(`role_arn":"${PLAN_ROLE}"`);
  });
});
