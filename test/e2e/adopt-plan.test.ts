/**
 * Adoption without surprises, planned with the real AWS provider: an existing hand-made role (with a
 * managed policy and an inline one) is converted by `npm run audit -- --to-config`, synthesized, and
 * planned offline against an IAM stand-in holding the live role (test/support/iam-stand-in.ts). The
 * plan is parsed: every object is imported, nothing the role had is detached or deleted, and the only
 * changes are the trust policy and tags. A config that says `managedPolicyArns: []` on purpose shows
 * the detachment as a removal in the plan summary, and the single-role and mixed recipes: those plans are
 * in test/slow/adopt-plan-recipes.test.ts (a plan takes ~13 s; this file keeps the one that matters most).
 *
 * Needs terraform and the AWS provider 5.100.0 in a plugin directory (FACTS: /opt/tf-plugins); where
 * either is missing the terraform tests are skipped, naming why.
 */
import { auditText, toConfig } from "../../src/audit/audit";
import { parseConfig } from "../../src/config/load";
import {
  ADOPTED_ROLE,
  closeWorkspace,
  converted,
  expectNothingRemoved,
  fixture,
  plan,
  POWER_USER,
  ASSETS,
  testWithPlan,
} from "../support/adopt-plan";

afterAll(closeWorkspace);

describe("adopting a hand-made role, planned with the real AWS provider against an IAM stand-in", () => {
  test("from get-role alone the policies are unknown: --to-config says so and the synth refuses the role", () => {
    // GIVEN get-role output (which lists no policies), converted
    const result = auditText(fixture("get-role-production-deploy.json"), "role.json");
    const output = toConfig(result, "role.json");
    // THEN the output writes unknown for both, and the loader refuses it naming the role and what to run
    expect(output.yaml).toMatch(/^ +managedPolicyArns: unknown$/m);
    expect(output.yaml).toMatch(/^ +inlinePolicies: unknown$/m);
    expect(output.unknownPolicies).toEqual(["production-deploy"]);
    expect(() => parseConfig(output.yaml, "role.yaml", output.lock)).toThrow(
      /managedPolicyArns: unknown: .*"production-deploy".*list-attached-role-policies --role-name production-deploy/,
    );
  });

  testWithPlan(
    "from get-account-authorization-details: imports plus trust and tag changes only; nothing detached or deleted",
    async () => {
      // GIVEN the account's authorization details, converted
      const { config } = converted("account-production-deploy.json");
      // WHEN planned against the live account
      const { changes, summary } = await plan(config);
      // THEN every object is imported; the provider and policies are untouched; the role is updated in place
      expectNothingRemoved(changes, [...ADOPTED_ROLE, "aws_iam_openid_connect_provider.gitlab"]);
      const actions = Object.fromEntries(changes.map((c) => [c.address, c.change.actions.join()]));
      expect(actions).toEqual({
        "aws_iam_openid_connect_provider.gitlab": "update", // the managed-by tag
        "aws_iam_role.production-deploy": "update", // the trust policy (and the managed-by tag)
        'aws_iam_role_policy_attachment.production-deploy["arn:aws:iam::aws:policy/PowerUserAccess"]':
          "no-op",
        "aws_iam_role_policy.production-deploy_assets": "no-op",
        "aws_iam_role_policy_attachments_exclusive.production-deploy": "no-op",
        "aws_iam_role_policies_exclusive.production-deploy": "no-op",
      });
      expect(summary).toEqual({ create: 0, update: 2, delete: 0 });
    },
  );

  test("from get-role with --policies beside it: the same role as from the authorization details", () => {
    // GIVEN get-role output and, beside it, what list-attached-role-policies, list-role-policies and
    // get-role-policy print; WHEN converted; THEN the role equals the one the authorization details give
    // (get-role also shows the description), so its plan is the one above
    const { config } = converted("get-role-production-deploy.json", [
      "list-attached-role-policies-production-deploy.json",
      "list-role-policies-production-deploy.json",
      "get-role-policy-production-deploy-assets.json",
    ]);
    const fromDetails = converted("account-production-deploy.json").config;
    const { description, ...role } = config.accounts[0].roles[0];
    expect(description).toBe("Made by hand in the console");
    expect(role).toEqual(fromDetails.accounts[0].roles[0]);
    expect(role.managedPolicyArns).toEqual([POWER_USER]);
    expect(role.inlinePolicies).toEqual({ assets: ASSETS });
  });
});
