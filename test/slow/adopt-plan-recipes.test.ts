/**
 * Breadth for adoption planned with the real AWS provider (the promise's fast test is
 * test/e2e/adopt-plan.test.ts): policies emptied on purpose show as deletes in the plan summary, and the
 * single-role (provider looked up) and mixed (adopted + new roles) recipes plan as docs/adopting.md says.
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

describe("adoption recipes, planned with the real AWS provider against an IAM stand-in", () => {
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
