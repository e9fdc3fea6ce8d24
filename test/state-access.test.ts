/**
 * State in S3 (state.type s3): the bucket policy and the generated inline policies, read back from the
 * synthesized HCL, judged for a matrix of principals × actions × resources by the project's evaluator
 * (src/iam/evaluate-access.ts; test/slow/ has iam-simulate agree on every case), against what the design intends:
 * only a stack's writer (or break-glass) writes its state, only its planner and writer read it across
 * accounts, only break-glass changes the bucket.
 */
import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import type { Config } from "../src/config/schema";
import { evaluateAccess } from "../src/iam/evaluate-access";
import {
  STATE_STACK,
  stateAccessOf,
  stateBucketPolicy,
  stateWritePolicy,
  type S3StateConfig,
} from "../src/model/state-access";
import { policyLength } from "../src/model/trust-policy";
import { lockFor, parse, problemsOf, synthesizeToTemp, type RawConfig } from "./support/configs";
import {
  BUCKET,
  BUCKET_ACCOUNT,
  deployedStatePolicies,
  judgeMatrix,
  MANAGED_POLICY_DOCUMENTS,
  principals,
  type DeployedStatePolicies,
} from "./support/state-policies";

const FIXTURE = "test/fixtures/state/s3-state.yaml";

function rawFixture(): RawConfig {
  return parseYaml(readFileSync(FIXTURE, "utf8")) as RawConfig;
}

describe("state in S3: who can read and write", () => {
  let deployed: DeployedStatePolicies;
  let config: Config;
  let state: S3StateConfig;
  let cleanup = () => undefined as void;

  beforeAll(async () => {
    const raw = rawFixture();
    config = parse(raw, lockFor(raw));
    state = config.state as S3StateConfig;
    const out = await synthesizeToTemp(config);
    cleanup = out.cleanup;
    deployed = await deployedStatePolicies(out.dir);
  });
  afterAll(() => cleanup());

  test("GIVEN the HCL's bucket policy WHEN compared with the model THEN they are the same document", () => {
    expect(deployed.bucketPolicy).toEqual(JSON.parse(JSON.stringify(stateBucketPolicy(config, state))));
  });

  test("GIVEN every principal × action × resource WHEN judged by our evaluator THEN it allows exactly what the design intends", () => {
    const { cases: matrix, overGrants, underGrants } = judgeMatrix(config, state, deployed);
    expect(matrix).toBeGreaterThan(300);
    expect(overGrants).toEqual([]);
    expect(underGrants).toEqual([]);
  });

  test("GIVEN the production deployer with AdministratorAccess, in the bucket's account, WHEN it writes staging's state THEN the bucket policy denies it explicitly", () => {
    const deployer = "arn:aws:iam::111111111111:role/gitlab/platform-deployer";
    const decision = evaluateAccess(
      {
        principalArn: deployer,
        action: "s3:PutObject",
        resource: `${BUCKET}/gitlab-oidc-aws/staging.tfstate`,
      },
      {
        identityPolicies: principals(deployed).get(deployer)!,
        resourcePolicy: deployed.bucketPolicy,
        resourceAccount: BUCKET_ACCOUNT,
      },
    );
    expect(decision).toMatchObject({
      decision: "ExplicitDeny",
      by: expect.arrayContaining(["DenyWritesStaging"]),
    });
  });

  test("GIVEN the production planner WHEN it reads its state over plain http THEN it is denied", () => {
    const planner = "arn:aws:iam::111111111111:role/gitlab/platform-planner";
    const request = {
      principalArn: planner,
      action: "s3:GetObject",
      resource: `${BUCKET}/gitlab-oidc-aws/production.tfstate`,
    };
    const policies = {
      identityPolicies: principals(deployed).get(planner)!,
      resourcePolicy: deployed.bucketPolicy,
      resourceAccount: BUCKET_ACCOUNT,
    };
    expect(evaluateAccess(request, policies).allowed).toBe(true);
    expect(
      evaluateAccess({ ...request, context: { "aws:SecureTransport": "false" } }, policies).decision,
    ).toBe("ExplicitDeny");
  });
});

describe("state in S3: the config's rules", () => {
  const withState = (change: (raw: RawConfig) => void): string[] => {
    const raw = rawFixture();
    change(raw);
    return problemsOf(raw);
  };
  const state = (raw: RawConfig) => raw.state as Record<string, unknown>;
  const accounts = (raw: RawConfig) => raw.accounts as Record<string, unknown>[];

  test("GIVEN the fixture THEN it is accepted", () => {
    expect(withState(() => undefined)).toEqual([]);
  });

  test.each([
    ["a bucket with a dot", (r: RawConfig) => (state(r).bucket = "acme.state"), "must not contain dots"],
    ["an upper-case bucket", (r: RawConfig) => (state(r).bucket = "Acme-state"), "lowercase letters"],
    ["a wildcard in the key prefix", (r: RawConfig) => (state(r).keyPrefix = "state/*"), "no * or ?"],
    ["a key prefix with ..", (r: RawConfig) => (state(r).keyPrefix = "a/../b/"), '".."'],
    ["an unknown bucket account", (r: RawConfig) => (state(r).account = "prod"), '"prod" is not an account'],
    [
      "break-glass in another account",
      (r: RawConfig) => (state(r).breakGlassRoleArn = "arn:aws:iam::222222222222:role/break-glass"),
      "in account 222222222222",
    ],
    [
      "a KMS key of another region",
      (r: RawConfig) =>
        (state(r).kmsKeyArn = "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"),
      "S3 encrypts with a key of the bucket's region only",
    ],
    ["a KMS alias", (r: RawConfig) => (state(r).kmsKeyArn = "alias/state"), "not a KMS key ARN"],
    ["an account without pipeline roles", (r: RawConfig) => delete accounts(r)[1]!.pipeline, "add pipeline:"],
    [
      "a pipeline role the account lacks",
      (r: RawConfig) => (accounts(r)[1]!.pipeline = { planner: "platform-planner", deployer: "nobody" }),
      'deployer "nobody" is not a role of this account',
    ],
    [
      "the planner as deployer",
      (r: RawConfig) =>
        (accounts(r)[1]!.pipeline = { planner: "platform-planner", deployer: "platform-planner" }),
      "another role than the planner",
    ],
    [
      "an account named like the state stack",
      (r: RawConfig) => (accounts(r)[1]!.name = "gitlab_oidc_state"),
      "state bucket's own stack",
    ],
  ])("GIVEN %s THEN the config is refused with the reason", (_what, change, message) => {
    const problems = withState(change);
    expect(problems.join("\n")).toContain(message);
  });

  test("GIVEN as many accounts as the bucket policy's 20 KB allows WHEN one more is added THEN the config says so", () => {
    /** The fixture with `count` more accounts like its second one, each with its own deploy audience. */
    const withMoreAccounts = (count: number) => {
      const raw = rawFixture();
      const template = accounts(raw)[1]!;
      for (let n = 2; n < 2 + count; n++) {
        const name = `extra${n}`;
        // Each stack's deployer accepts its own deploy jobs' audience (gitlab-oidc-aws-deploy-<stack>).
        const roles = (template.roles as Record<string, unknown>[]).map((role) =>
          role.audience ? { ...role, audience: `gitlab-oidc-aws-deploy-${name}` } : role,
        );
        accounts(raw).push({ ...template, name, accountId: String(300000000000 + n), roles });
      }
      return raw;
    };
    // The policy grows with every account, so the most accounts accepted is found by halving: `accepted`
    // more accounts are accepted, `refused` more are not.
    let accepted = 0;
    let refused = 38;
    expect(problemsOf(withMoreAccounts(accepted))).toEqual([]);
    expect(problemsOf(withMoreAccounts(refused))).not.toEqual([]);
    while (refused - accepted > 1) {
      const middle = Math.floor((accepted + refused) / 2);
      if (problemsOf(withMoreAccounts(middle)).length === 0) accepted = middle;
      else refused = middle;
    }
    // THEN the largest accepted policy fits in 20 KB, and one more account is refused for its size
    const config = parse(withMoreAccounts(accepted));
    expect(policyLength(stateBucketPolicy(config, config.state as S3StateConfig))).toBeLessThanOrEqual(
      20_480,
    );
    expect(problemsOf(withMoreAccounts(accepted + 1)).join("\n")).toContain("over S3's 20480");
  });

  test("GIVEN state s3 WHEN synthesized THEN each stack's backend is S3 with encryption and S3-native locking, and the bucket has its own stack", async () => {
    const raw = rawFixture();
    const out = await synthesizeToTemp(parse(raw));
    try {
      const hcl = readFileSync(`${out.dir}/stacks/staging/cdk.tf`, "utf8");
      expect(hcl).toMatch(
        /backend "s3" \{\n\s+bucket\s+= "acme-gitlab-oidc-state"\n\s+key\s+= "gitlab-oidc-aws\/staging.tfstate"\n\s+region\s+= "eu-west-1"\n\s+encrypt\s+= true\n\s+use_lockfile = true\n/,
      );
      const backend = /backend "s3" \{[^}]*\}/.exec(hcl)![0];
      expect(backend).not.toMatch(/access_key|secret_key|token|profile|role_arn|assume_role/);
      expect(out.stacks.map((s) => s.name)).toEqual(["production", "staging"]);
      const manifest = JSON.parse(readFileSync(`${out.dir}/manifest.json`, "utf8")) as { stacks: object };
      expect(Object.keys(manifest.stacks).sort()).toEqual([STATE_STACK, "production", "staging"]);
    } finally {
      out.cleanup();
    }
  });
});

describe("state in S3: deployRoleArn and KMS", () => {
  test("GIVEN deployRoleArn and a KMS key WHEN synthesized THEN that role writes the state (its own inline policy), the planner may decrypt, the deployer role gets nothing, and the bucket encrypts with the key", async () => {
    // GIVEN
    const raw = parseYaml(readFileSync("test/fixtures/state/s3-state.yaml", "utf8")) as RawConfig;
    const key = "arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    (raw.state as Record<string, unknown>).kmsKeyArn = key;
    const staging = (raw.accounts as Record<string, unknown>[])[1]!;
    staging.deployRoleArn = "arn:aws:iam::222222222222:role/platform/terraform-apply";
    const config = parse(raw);
    // WHEN
    const out = await synthesizeToTemp(config);
    try {
      const hcl = readFileSync(`${out.dir}/stacks/staging/cdk.tf`, "utf8");
      const bucketHcl = readFileSync(`${out.dir}/stacks/${STATE_STACK}/cdk.tf`, "utf8");
      const deployed = await deployedStatePolicies(out.dir);
      // THEN
      const writerPolicy =
        /resource "aws_iam_role_policy" "state-writer" \{\n\s+name\s+= "gitlab-oidc-state-write"\n.*\n\s+role\s+= "terraform-apply"\n\}/.exec(
          hcl,
        );
      expect(writerPolicy).not.toBeNull();
      expect(hcl).toContain(`kms_key_id   = "${key}"`);
      const stagingDeployer = deployed.identityPolicies.get(
        "arn:aws:iam::222222222222:role/gitlab/platform-deployer",
      )!;
      expect(stagingDeployer).toEqual([]);
      const planner = deployed.identityPolicies.get(
        "arn:aws:iam::222222222222:role/gitlab/platform-planner",
      )!;
      expect(planner[0]!.Statement).toContainEqual(
        expect.objectContaining({ Action: ["kms:Decrypt"], Resource: [key] }),
      );
      expect(bucketHcl).toMatch(/sse_algorithm\s+= "aws:kms"/);
      expect(bucketHcl).toContain(`kms_master_key_id = "${key}"`);
      const writer = evaluateAccess(
        {
          principalArn: staging.deployRoleArn as string,
          action: "s3:PutObject",
          resource: `${BUCKET}/gitlab-oidc-aws/staging.tfstate`,
        },
        {
          identityPolicies: [
            stateWritePolicy(
              "aws",
              config.state as S3StateConfig,
              stateAccessOf(config, config.state as S3StateConfig)[1]!,
            ),
          ],
          resourcePolicy: deployed.bucketPolicy,
          resourceAccount: BUCKET_ACCOUNT,
        },
      );
      expect(writer.allowed).toBe(true);
      const deployerRole = evaluateAccess(
        {
          principalArn: "arn:aws:iam::222222222222:role/gitlab/platform-deployer",
          action: "s3:PutObject",
          resource: `${BUCKET}/gitlab-oidc-aws/staging.tfstate`,
        },
        {
          identityPolicies: [MANAGED_POLICY_DOCUMENTS["arn:aws:iam::aws:policy/AdministratorAccess"]!],
          resourcePolicy: deployed.bucketPolicy,
          resourceAccount: BUCKET_ACCOUNT,
        },
      );
      expect(deployerRole.decision).toBe("ExplicitDeny");
    } finally {
      out.cleanup();
    }
  });
});
