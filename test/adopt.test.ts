/**
 * Adoption and drift control in the synthesized HCL, parsed with HCL's own parser (@cdktf/hcl2json):
 * `adopt: true` writes Terraform import blocks (provider by ARN, role by name, each attachment instance
 * by role/arn, inline policies by role:policy, the exclusive resources by role name); every role's
 * attachments and inline policies are managed exclusively, adopted or not.
 */
import { parse as parseHcl } from "@cdktf/hcl2json";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { buildApp } from "../src/synth";
import { readStackConfiguration } from "../src/terraform/synthesized-stacks";
import { AccountStack } from "../stacks/account-stack";
import { App, TerraformStack } from "cdktf";
import { GitLabOidcProvider } from "../src/constructs/gitlab-oidc-provider";
import { GitLabOidcRole } from "../src/constructs/gitlab-oidc-role";
import { renderAccessReport } from "../src/report/access-report";
import { adoptedWithPolicies, READ_ONLY, TEAM, ASSETS as inline } from "./support/hostile-writer";
import {
  accountStackProps,
  minimalConfig,
  parse,
  problemsOf,
  synthesizeToTemp,
  type RawConfig,
} from "./support/configs";

async function synthHcl(raw: RawConfig) {
  const written = await synthesizeToTemp(parse(raw));
  try {
    const file = join(written.dir, "stacks", "production", "cdk.tf");
    const text = readFileSync(file, "utf8");
    return { text, tf: (await parseHcl(file, text)) as Record<string, unknown>, stacks: written.stacks };
  } finally {
    written.cleanup();
  }
}

type ImportBlock = { to: string; id: string };

describe("adopt: true", () => {
  test("on the account: import blocks for the provider, the role, each attachment instance, inline policies and the exclusive resources", async () => {
    // GIVEN an adopted account whose role has two managed policies and an inline one
    const raw = adoptedWithPolicies();
    // WHEN it is synthesized and the HCL parsed back
    const { tf, stacks } = await synthHcl(raw);
    // THEN the parsed HCL holds one import block per existing object, by its import ID
    const imports = (tf.import as ImportBlock[]).map((block) => [block.to, block.id]);
    expect(imports).toEqual(
      expect.arrayContaining([
        ["${aws_iam_openid_connect_provider.gitlab}", "arn:aws:iam::111111111111:oidc-provider/gitlab.com"],
        ["${aws_iam_role.deploy}", "deploy"],
        [`\${aws_iam_role_policy_attachment.deploy["${READ_ONLY}"]}`, `deploy/${READ_ONLY}`],
        [`\${aws_iam_role_policy_attachment.deploy["${TEAM}"]}`, `deploy/${TEAM}`],
        ["${aws_iam_role_policy.deploy_assets}", "deploy:assets"],
        ["${aws_iam_role_policy_attachments_exclusive.deploy}", "deploy"],
        ["${aws_iam_role_policies_exclusive.deploy}", "deploy"],
      ]),
    );
    expect(imports).toHaveLength(7);
    // AND the model read back from the HCL says the same
    expect(stacks[0].providerImport).toEqual({
      to: "aws_iam_openid_connect_provider.gitlab",
      id: "arn:aws:iam::111111111111:oidc-provider/gitlab.com",
    });
    expect(stacks[0].roles[0].imports).toHaveLength(6);
  });

  // terraform fmt itself checks the same file in test/e2e/terraform-reads-hostile.test.ts.
  test("the import blocks are formatted as terraform fmt formats them (hclwrite via @cdktf/hcl-tools)", async () => {
    // GIVEN the HCL of an adopted account with managed and inline policies
    const { text } = await synthHcl(adoptedWithPolicies());
    // WHEN terraform fmt's formatter formats it THEN nothing changes
    const { format } = await import("@cdktf/hcl-tools");
    expect(await format(text)).toBe(text);
  });

  test("on one role, the provider looked up: only that role is imported, not the provider or the other roles", async () => {
    const raw = minimalConfig(
      { adopt: true, managedPolicyArns: [], inlinePolicies: {} },
      { provider: "existing" },
    );
    (raw.accounts as Record<string, unknown>[])[0].roles = [
      ...((raw.accounts as Record<string, unknown>[])[0].roles as unknown[]),
      { name: "fresh", allow: [{ project: "acme/api", branches: ["main"] }] },
    ];
    const { tf } = await synthHcl(raw);
    const targets = (tf.import as ImportBlock[]).map((block) => block.to).sort();
    expect(targets).toEqual([
      "${aws_iam_role.deploy}",
      "${aws_iam_role_policies_exclusive.deploy}",
      "${aws_iam_role_policy_attachments_exclusive.deploy}",
    ]);
  });

  test("with provider: existing, adopting the account imports the roles only (the provider is looked up)", async () => {
    const { tf } = await synthHcl(
      minimalConfig({ managedPolicyArns: [], inlinePolicies: {} }, { adopt: true, provider: "existing" }),
    );
    expect((tf.import as ImportBlock[]).map((b) => b.to)).not.toContain(
      "${aws_iam_openid_connect_provider.gitlab}",
    );
    expect((tf.import as ImportBlock[]).length).toBe(3);
  });

  test("without adopt there are no import blocks", async () => {
    const { tf, text } = await synthHcl(minimalConfig({ managedPolicyArns: [READ_ONLY] }));
    expect(tf.import).toBeUndefined();
    expect(text).not.toMatch(/^import \{/m);
  });

  test("adopt must be a boolean", () => {
    expect(() => parse(minimalConfig({ adopt: "yes" }))).toThrow(/adopt must be true or false/);
  });
});

describe("drift control", () => {
  test("every role's attachments and inline policies are managed exclusively, with exactly the configured ones", async () => {
    // GIVEN a role with policies and a role with none
    const raw = minimalConfig({ managedPolicyArns: [TEAM, READ_ONLY], inlinePolicies: inline });
    (raw.accounts as Record<string, unknown>[])[0].roles = [
      ...((raw.accounts as Record<string, unknown>[])[0].roles as unknown[]),
      { name: "bare", allow: [{ project: "acme/api", branches: ["main"] }] },
    ];
    // WHEN synthesized and parsed back
    const { tf } = await synthHcl(raw);
    const resource = tf.resource as Record<string, Record<string, Record<string, unknown>[]>>;
    // THEN both roles have both exclusive resources; a role without policies keeps none (empty lists)
    expect(resource.aws_iam_role_policy_attachments_exclusive.deploy[0]).toEqual({
      role_name: "${aws_iam_role.deploy.name}",
      policy_arns: [TEAM, READ_ONLY].sort(),
    });
    expect(resource.aws_iam_role_policies_exclusive.deploy[0]).toEqual({
      role_name: "${aws_iam_role.deploy.name}",
      policy_names: ["assets"],
    });
    expect(resource.aws_iam_role_policy_attachments_exclusive.bare[0].policy_arns).toEqual([]);
    expect(resource.aws_iam_role_policies_exclusive.bare[0].policy_names).toEqual([]);
  });

  test("the stacks' own description equals the HCL read back, imports and exclusive lists included", async () => {
    const raw = adoptedWithPolicies();
    const config = parse(raw);
    const stacks = buildApp(config, "/tmp/unused-gitlab-oidc-adopt", true).node.children.filter(
      (child) => child instanceof AccountStack,
    );
    const described = stacks.map((stack) => stack.synthesized);
    const fromJson = stacks.map((stack) => readStackConfiguration(stack.node.id, stack.toTerraform()));
    const { stacks: fromHcl } = await synthHcl(raw);
    expect(fromHcl).toEqual(described);
    expect(fromJson).toEqual(described);
  });
});

describe("adoption without surprises: the config says what the adopted role has", () => {
  const lockless = (raw: RawConfig) => problemsOf(raw).join("\n");

  test("an adopted role that leaves out its policies is refused, naming the role, the command and adopt: false", () => {
    // GIVEN an adopted account whose role says nothing about its policies
    const problems = lockless(minimalConfig({}, { adopt: true }));
    // THEN both keys are asked for, with what to run, and a new role is told to say adopt: false
    expect(problems).toMatch(/role "deploy" is adopted, but the config does not say which managed policies/);
    expect(problems).toMatch(/list-attached-role-policies --role-name deploy/);
    expect(problems).toMatch(/role "deploy" is adopted, but the config does not say which inline policies/);
    expect(problems).toMatch(/If "deploy" is a new role, write adopt: false on it/);
  });

  test("managedPolicyArns: unknown (what --to-config writes from get-role) is refused, naming the role", () => {
    const problems = lockless(
      minimalConfig(
        { adopt: true, managedPolicyArns: "unknown", inlinePolicies: "unknown" },
        { provider: "existing" },
      ),
    );
    expect(problems).toMatch(/managedPolicyArns: unknown: .*"deploy"/);
    expect(problems).toMatch(/inlinePolicies: unknown: .*"deploy"/);
    expect(problems).not.toMatch(/must be a list|must be a map/);
  });

  test("[] and {} on purpose are accepted; a role marked adopt: false under an adopted account needs neither", () => {
    const raw = minimalConfig({ managedPolicyArns: [], inlinePolicies: {} }, { adopt: true });
    (raw.accounts as Record<string, unknown>[])[0].roles = [
      ...((raw.accounts as Record<string, unknown>[])[0].roles as unknown[]),
      { name: "fresh", adopt: false, allow: [{ project: "acme/api", branches: ["main"] }] },
    ];
    expect(problemsOf(raw)).toEqual([]);
  });

  test("adopting a role while the account creates the provider is refused (EntityAlreadyExists at apply)", () => {
    const problems = lockless(minimalConfig({ adopt: true, managedPolicyArns: [], inlinePolicies: {} }));
    expect(problems).toMatch(/role "deploy" is adopted, so the GitLab provider it trusts already exists/);
    expect(problems).toMatch(/provider: existing/);
    // The documented ways are accepted: look the provider up, or adopt it with the account
    expect(
      problemsOf(
        minimalConfig({ adopt: true, managedPolicyArns: [], inlinePolicies: {} }, { provider: "existing" }),
      ),
    ).toEqual([]);
  });

  test("the construct refuses adopt without the policy lists, as the loader does", () => {
    const props = accountStackProps(
      minimalConfig({ adopt: true, managedPolicyArns: [], inlinePolicies: {} }, { provider: "existing" }),
    );
    const app = new App();
    const stack = new TerraformStack(app, "s");
    const provider = new GitLabOidcProvider(stack, "gitlab", { url: "https://gitlab.com", existing: true });
    const context = {
      gitlab: props.gitlab,
      ...(props.lock ? { lock: props.lock } : {}),
      limits: props.limits,
      accountId: "111111111111",
      partition: "aws",
    };
    const allow = [{ project: "acme/web", branches: ["main"] }];
    expect(
      () => new GitLabOidcRole(stack, "r", { provider, name: "deploy", allow, adopt: true, context }),
    ).toThrow(/the role is adopted: pass managedPolicyArns/);
    expect(
      () =>
        new GitLabOidcRole(stack, "r2", {
          provider,
          name: "deploy2",
          allow,
          adopt: true,
          managedPolicyArns: [],
          inlinePolicies: {},
          context,
        }),
    ).not.toThrow();
  });

  test("ACCESS.md marks the adopted provider and role and says the trust policy will be replaced", async () => {
    const raw = minimalConfig({ managedPolicyArns: [READ_ONLY], inlinePolicies: {} }, { adopt: true });
    (raw.accounts as Record<string, unknown>[])[0].roles = [
      ...((raw.accounts as Record<string, unknown>[])[0].roles as unknown[]),
      { name: "fresh", adopt: false, allow: [{ project: "acme/api", branches: ["main"] }] },
    ];
    const config = parse(raw);
    const written = await synthesizeToTemp(config);
    try {
      const report = renderAccessReport(config, written.stacks);
      expect(report).toMatch(
        /OIDC provider: `https:\/\/gitlab.com`, adopted: the existing provider `arn:aws:iam::111111111111:oidc-provider\/gitlab.com` is imported/,
      );
      const deploy = report.slice(report.indexOf("### deploy"), report.indexOf("### fresh"));
      const fresh = report.slice(report.indexOf("### fresh"));
      expect(deploy).toMatch(/\*\*Adopted\*\*: .*trust policy is \*\*replaced\*\*.*before and after/);
      expect(fresh).not.toMatch(/Adopted/);
    } finally {
      written.cleanup();
    }
  });

  test("pinIds: false on one role unpins that role only", async () => {
    const raw = minimalConfig({ pinIds: false });
    (raw.accounts as Record<string, unknown>[])[0].roles = [
      ...((raw.accounts as Record<string, unknown>[])[0].roles as unknown[]),
      { name: "pinned", allow: [{ project: "acme/api", branches: ["main"] }] },
    ];
    const written = await synthesizeToTemp(parse(raw));
    try {
      const keys = (name: string) =>
        JSON.stringify(written.stacks[0].roles.find((r) => r.name === name)!.trustPolicy.Statement);
      expect(keys("deploy")).not.toMatch(/gitlab\.com:project_id/);
      expect(keys("pinned")).toMatch(/gitlab\.com:project_id/);
    } finally {
      written.cleanup();
    }
  });
});

describe("docs/adopting.md", () => {
  test("the single-role and mixed recipes are valid configs as written", () => {
    // GIVEN the YAML recipes in docs/adopting.md (each an accounts: block)
    const text = readFileSync(join(__dirname, "..", "docs", "adopting.md"), "utf8");
    const recipes = [...text.matchAll(/```yaml\n(accounts:\n[\s\S]*?)```/g)].map((m) => m[1]);
    expect(recipes.length).toBeGreaterThanOrEqual(2);
    for (const recipe of recipes.filter((r) => /managedPolicyArns/.test(r))) {
      // WHEN read with a gitlab block; THEN the loader accepts it (no adopted role without its policies,
      // no adopted role while the provider is created)
      const yaml = `gitlab: { url: "https://gitlab.com", pinIds: false }\n${recipe}`;
      expect(problemsOf(yaml)).toEqual([]);
    }
  });
});
