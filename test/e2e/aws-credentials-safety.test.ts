/**
 * The component's script (2.0) under hostile or careless job settings, run directly under dash with the
 * real AWS CLI and the STS stand-in: no silent region, nothing injected into a file or redirected, only an
 * `aws` executable (the refusals and no-effect cases of test/support/component-safety-scenarios.ts, whose
 * bash and BusyBox runs are in the slow tier); session policies that narrow the credentials, allowed
 * accounts, the account and expiry as outputs, and the sts.amazonaws.com audience end to end.
 */
import { runSimulation } from "@cloud-copilot/iam-simulate";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { PRODUCTION_ROLE, STAGING_SESSION } from "../support/ci-local";
import { fakeStsCli } from "../support/component-shell-scenarios";
import { ASSETS_BUCKET } from "../support/component-fixture";
import { AWS_CLI, type ComponentShells } from "../support/component-shell";
import {
  base,
  describeNoEffect,
  describeRefusals,
  FEATURE,
  MAIN,
  useSafetyHarness,
} from "../support/component-safety-scenarios";
import type { StsStandIn } from "../support/sts-stand-in";

jest.setTimeout(60_000);

const harness = useSafetyHarness();
let sts: StsStandIn;
let shells: ComponentShells;
beforeAll(() => {
  ({ sts, shells } = harness);
});

describeRefusals(["dash"]);
describeNoEffect(["dash"]);

describe("region, account and expiry (dash)", () => {
  /** A fake CLI answering with credentials of the staging role: the region and account are the point. */
  const stagingCli = (): string => fakeStsCli(shells, `${STAGING_SESSION}gitlab-7-8-9`);

  it("says so when the region input replaces a different region the job set", async () => {
    const token = sts.mintToken({ sub: MAIN });
    const result = await shells.run("dash", {
      env: { ...base(token), AWS_REGION: "eu-central-1", AWS_CREDENTIALS_AWS_CLI: stagingCli() },
      after: 'echo "region=$AWS_REGION"',
    });
    expect(result.stderr).toContain(
      "NOTE: the job's AWS_REGION 'eu-central-1' is replaced by eu-west-1 from the region input",
    );
    expect(result.stdout).toContain("region=eu-west-1");
  });

  it("exports the account ID and the expiry, and can mask the account in its own log", async () => {
    const token = sts.mintToken({ sub: MAIN });
    const result = await shells.run("dash", {
      env: { ...base(token), AWS_CREDENTIALS_MASK_ACCOUNT_ID: "true", AWS_CREDENTIALS_AWS_CLI: stagingCli() },
      after:
        'echo "account=$AWS_CREDENTIALS_ACCOUNT_ID" | tr 0-9 a-j; echo "expires=$AWS_CREDENTIALS_EXPIRATION"',
    });
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("account=cccccccccccc"); // 222222222222, past the log's masking
    expect(result.stdout).toMatch(/expires=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|\+00:00)\n/);
    expect(result.stderr).toContain("assumed arn:aws:iam::************:role/gitlab/gitlab-deploy-web");
    expect(result.stderr).not.toContain("222222222222");
  });

  it("allowed_account_ids: a role in another account is refused before STS is called", async () => {
    // GIVEN the staging role (222222222222) and only production allowed
    const token = sts.mintToken({ sub: MAIN });
    const result = await shells.run("dash", {
      env: { ...base(token), AWS_CREDENTIALS_ALLOWED_ACCOUNT_IDS: '["111111111111"]' },
      after: 'echo "AFTER keys=${AWS_ACCESS_KEY_ID:+yes}"',
    });
    // THEN nothing was asked of STS, nor exported
    expect(result.stderr).toContain(
      "arn:aws:iam::222222222222:role/gitlab/gitlab-deploy-web is in account 222222222222, which is not one of allowed_account_ids ( 111111111111 )",
    );
    expect(result.status).toBe(1);
    expect(result.stdout).not.toContain("AFTER");
    expect(sts.calls).toEqual([]);
  });

  it("allowed_account_ids: credentials STS issued for another account are refused after assuming, before exporting", async () => {
    // GIVEN an endpoint answering with credentials of account 333333333333 for an allowed role
    // (an aws executable that prints what such an answer gives the component)
    const bin = shells.fakeBin({
      aws: `printf 'ASIAFAKE\tsecret\tsession\t2030-01-01T00:00:00Z\tarn:aws:sts::333333333333:assumed-role/r/s\n'`,
    });
    const result = await shells.run("dash", {
      env: {
        ...base(sts.mintToken({ sub: MAIN })),
        AWS_CREDENTIALS_AWS_CLI: join(bin, "aws"),
        AWS_CREDENTIALS_ALLOWED_ACCOUNT_IDS: "222222222222",
      },
      after: 'echo "AFTER keys=${AWS_ACCESS_KEY_ID:+yes}"',
    });
    // THEN the job stops before exporting them
    expect(result.stderr).toContain(
      "is in account 333333333333, which is not one of allowed_account_ids ( 222222222222 )",
    );
    expect(result.status).toBe(1);
    expect(result.stdout).not.toContain("AFTER");
    // AND with that account allowed, the same answer is exported
    const allowed = await shells.run("dash", {
      env: {
        ...base(sts.mintToken({ sub: MAIN })),
        AWS_CREDENTIALS_AWS_CLI: join(bin, "aws"),
        AWS_CREDENTIALS_ALLOWED_ACCOUNT_IDS: "222222222222, 333333333333",
      },
      after: 'echo "AFTER keys=${AWS_ACCESS_KEY_ID:+yes} account=$AWS_CREDENTIALS_ACCOUNT_ID"',
    });
    expect(allowed.stdout).toContain("AFTER keys=yes account=333333333333");
  });
});

describe("session policies (dash)", () => {
  const SESSION_POLICY = {
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Action: "s3:PutObject", Resource: `${ASSETS_BUCKET}/*` }],
  };
  const MANAGED = ["arn:aws:iam::aws:policy/ReadOnlyAccess", "arn:aws:iam::111111111111:policy/gitlab/a,b=c"];

  it("passes the inline and managed session policies to STS, which narrow the role", async () => {
    // GIVEN the production deployer (may put and delete assets) and a session policy allowing put only
    const token = sts.mintToken({ sub: MAIN });
    const result = await shells.run("dash", {
      env: {
        ...base(token),
        AWS_CREDENTIALS_ROLE_ARN: PRODUCTION_ROLE,
        AWS_CREDENTIALS_SESSION_POLICY: JSON.stringify(SESSION_POLICY, null, 2),
        AWS_CREDENTIALS_SESSION_POLICY_ARNS: JSON.stringify(MANAGED),
      },
    });
    expect(result.status).toBe(0);
    expect(result.stderr).toContain("inline session policy, 2 managed session policies");
    // THEN STS received both, as sent
    const [call] = sts.assumeCalls();
    expect(JSON.parse(call!.policy!)).toEqual(SESSION_POLICY);
    expect(call!.policyArns).toEqual(MANAGED);
    // AND the credentials it issued can put objects but not delete them, although the role may
    const issued = sts.issued.at(-1)!;
    const role = sts.stacks.flatMap((s) => s.roles).find((r) => r.inlinePolicies["deploy-assets"])!;
    const decide = async (action: string, sessionPolicy?: unknown): Promise<string> => {
      const result = await runSimulation(
        {
          request: {
            principal: `arn:aws:sts::111111111111:assumed-role/${issued.roleName}/${issued.sessionName}`,
            action,
            resource: { resource: `${ASSETS_BUCKET}/site/index.html`, accountId: "111111111111" },
            contextVariables: {},
          },
          identityPolicies: [{ name: "deploy-assets", policy: role.inlinePolicies["deploy-assets"] }],
          serviceControlPolicies: [],
          resourceControlPolicies: [],
          ...(sessionPolicy === undefined ? {} : { sessionPolicy }),
        },
        {},
      );
      return result.resultType === "error" ? `error: ${JSON.stringify(result.errors)}` : result.overallResult;
    };
    expect(await decide("s3:DeleteObject")).toBe("Allowed");
    expect(await decide("s3:DeleteObject", issued.sessionPolicy)).toBe("ImplicitlyDenied");
    expect(await decide("s3:PutObject", issued.sessionPolicy)).toBe("Allowed");
  });

  it("a policy over STS's 2048 characters is refused before the call", async () => {
    const token = sts.mintToken({ sub: MAIN });
    const policy = `{"Statement": "${"x".repeat(2100)}"}`;
    const result = await shells.run("dash", {
      env: { ...base(token), AWS_CREDENTIALS_SESSION_POLICY: policy },
    });
    expect(result.stderr).toContain(`session_policy has ${policy.length} characters; STS takes at most 2048`);
    expect(sts.calls).toEqual([]);
    expect(result.status).toBe(1);
  });
});

describe("the sts.amazonaws.com audience end to end (dash)", () => {
  it("provider client IDs, trust conditions, the component's token and STS agree", async () => {
    // GIVEN the fixture's stacks, synthesized with the default audience
    for (const stack of sts.stacks) {
      expect(stack.providerAudiences).toEqual(["sts.amazonaws.com"]);
      for (const role of stack.roles) {
        for (const statement of role.trustPolicy.Statement) {
          expect(statement.Condition?.StringEquals?.["gitlab.com:aud"]).toEqual(["sts.amazonaws.com"]);
        }
      }
    }
    // AND the component's default aud input
    const template = readFileSync(join(__dirname, "..", "..", "templates", "aws-credentials.yml"), "utf8");
    expect(template).toMatch(/ {4}aud:\n {6}type: string\n {6}default: sts\.amazonaws\.com\n/);
    // WHEN a token with that aud is exchanged THEN STS accepts it; the old default is refused
    const ok = await shells.run("dash", {
      env: base(sts.mintToken({ sub: FEATURE, aud: "sts.amazonaws.com" })),
    });
    expect(ok.status).toBe(0);
    const old = await shells.run("dash", {
      env: base(sts.mintToken({ sub: FEATURE, aud: "https://gitlab.com" })),
    });
    expect(old.stderr).toContain("InvalidIdentityToken");
    expect(old.status).toBe(1);
  });
});

/** AWS_CLI is the real CLI; the tests above rely on it being found by absolute path. */
test("the real AWS CLI is an absolute path ending in /aws", () => {
  expect(AWS_CLI).toMatch(/^\/.*\/aws$/);
});
