/**
 * Adoption planned with the real AWS provider against an IAM stand-in holding the live role
 * (test/support/iam-stand-in.ts): a hand-made role (a managed policy and an inline one) converted by
 * `npm run audit -- --to-config`, synthesized and planned offline; the plan is parsed: every object is
 * imported, nothing the role had is detached or deleted, the only changes are the trust policy and tags.
 * Then the breadth: policies emptied on purpose show as deletes in the plan summary, and the single-role
 * (provider looked up) and mixed (adopted + new roles) recipes plan as docs/adopting.md says.
 *
 * A plan takes ~10 s of the machine (terraform and the provider, 9 s of CPU), so these are the slow tier's.
 * The promise's fast tests hold the HCL a plan acts on: test/adopt.test.ts (an import block for the role,
 * each attachment and inline policy, and exclusive lists equal to the live role's policies), with the
 * mutations adopt-attachment-not-imported and adopt-exclusive-not-imported (test/mutations/).
 *
 * Needs terraform and the AWS provider 5.100.0 in a plugin directory; skipped loudly where either is missing.
 */
import { auditText, toConfig } from "../../src/audit/audit";
import { parseConfig } from "../../src/config/load";
import {
  ADOPTED_ROLE,
  ASSETS,
  byAddress,
  closeWorkspace,
  converted,
  expectNothingRemoved,
  fixture,
  listOf,
  plan,
  POWER_USER,
  testWithPlan,
} from "../support/adopt-plan";

afterAll(closeWorkspace);

describe("adoption planned with the real AWS provider against an IAM stand-in", () => {
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

  testWithPlan(
    "managedPolicyArns: [] and inlinePolicies: {} on purpose: the plan detaches and deletes, and the summary counts deletes",
    async () => {
      // GIVEN the get-role conversion, with the unknown policies replaced by "none" on purpose
      const result = auditText(fixture("get-role-production-deploy.json"), "role.json");
      const output = toConfig(result, "role.json");
      const text = output.yaml
        .replace(/^( +)managedPolicyArns: unknown$/m, "$1managedPolicyArns: []")
        .replace(/^( +)inlinePolicies: unknown$/m, "$1inlinePolicies: {}");
      const config = parseConfig(text, "role.yaml", output.lock);
      // WHEN planned against the live role, which has PowerUserAccess and an inline policy
      const { changes, summary } = await plan(config);
      // THEN the exclusive resources drop them, and the summary shows two deletes, not two updates
      const exclusive = byAddress(changes)["aws_iam_role_policy_attachments_exclusive.production-deploy"];
      expect(listOf(exclusive.change.before, "policy_arns")).toEqual([POWER_USER]);
      expect(listOf(exclusive.change.after, "policy_arns")).toEqual([]);
      expect(exclusive.change.actions).toEqual(["update"]);
      expect(summary.delete).toBe(2);
    },
  );

  testWithPlan(
    "one role into an account whose provider exists (provider: existing), a new role beside it: import one, create one",
    async () => {
      // GIVEN the documented single-role recipe: provider looked up, the role adopted, a new role not
      const config = parseConfig(
        `gitlab: { url: "https://gitlab.com", audience: "https://gitlab.com" }
accounts:
  - name: production
    accountId: "111111111111"
    region: eu-west-1
    provider: existing
    roles:
      - name: production-deploy
        adopt: true
        pinIds: false
        managedPolicyArns: ["${POWER_USER}"]
        inlinePolicies:
          assets: ${JSON.stringify(ASSETS)}
        allow: [{ project: acme/web, branches: [main], protected: false }]
      - name: fresh
        pinIds: false
        allow: [{ project: acme/api, branches: [main], protected: false }]
`,
        "single.yaml",
      );
      const { changes, summary } = await plan(config);
      // THEN the adopted role is imported with nothing removed, the new one created, no provider resource
      expectNothingRemoved(changes, ADOPTED_ROLE);
      const created = changes.filter((c) => c.change.actions.includes("create")).map((c) => c.address);
      expect(created.sort()).toEqual([
        "aws_iam_role.fresh",
        "aws_iam_role_policies_exclusive.fresh",
        "aws_iam_role_policy_attachments_exclusive.fresh",
      ]);
      expect(changes.map((c) => c.type)).not.toContain("aws_iam_openid_connect_provider");
      expect(summary).toEqual({ create: 3, update: 1, delete: 0 });
    },
  );

  testWithPlan(
    "mixed: the account adopted (provider imported), a new role marked adopt: false is created",
    async () => {
      const { yaml } = converted("account-production-deploy.json");
      const mixed = yaml.replace(
        /^ {4}roles:\n/m,
        "    roles:\n      - name: fresh\n        adopt: false\n        pinIds: false\n        allow: [{ project: acme/api, branches: [main], protected: false }]\n",
      );
      const { changes, summary } = await plan(parseConfig(mixed, "mixed.yaml"));
      expectNothingRemoved(changes, [...ADOPTED_ROLE, "aws_iam_openid_connect_provider.gitlab"]);
      expect(byAddress(changes)["aws_iam_role.fresh"].change.actions).toEqual(["create"]);
      expect(byAddress(changes)["aws_iam_role.fresh"].change.importing).toBeUndefined();
      expect(summary).toEqual({ create: 3, update: 2, delete: 0 });
    },
  );
});
