/**
 * `npm run audit -- FILE --to-config`: each converted role, read back by the config loader and
 * synthesized with the model's trustPolicyFor, decides every sampled token as the original policy does
 * (through the evaluator); roles without a safe equivalent are refused with the reason.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { auditText, toConfig } from "../src/audit/audit";
import type { GitLabTrust } from "../src/audit/gitlab-trust";
import { evaluablePolicy } from "../src/audit/policy";
import { sampleTokens, tokenContext, type TokenSpec } from "../src/audit/tokens";
import { parseConfig } from "../src/config/load";
import { roleAudiences, trustSettingsOf } from "../src/config/rules";
import { evaluateTrustPolicy } from "../src/iam/evaluate";
import { trustPolicyFor, type IamPolicyDocument } from "../src/model/trust-policy";
import { ASSETS, converted, fixture, POWER_USER } from "./support/adopt-plan";

const FIXTURES = join(__dirname, "fixtures", "audit");

function convert(file: string, text = readFileSync(join(FIXTURES, file), "utf8")) {
  const result = auditText(text, file);
  const output = toConfig(result, file);
  const configs = parseAllDocuments(output.yaml)
    .map((doc) => doc.toString())
    .filter((doc) => /accounts:/.test(doc))
    // Policies say nothing about who gets in: `unknown` (get-role input) is read as none here.
    .map((doc) =>
      doc.replace(
        /^( +)(managedPolicyArns|inlinePolicies): unknown$/gm,
        (_, indent, key) => `${indent}${key}: ${key === "managedPolicyArns" ? "[]" : "{}"}`,
      ),
    )
    .map((doc) => parseConfig(doc, file, output.lock));
  return { result, output, configs };
}

/** Tokens on which the two policies disagree: sampled ones plus hand-picked neighbours. */
function disagreements(
  original: IamPolicyDocument,
  converted: IamPolicyDocument,
  trust: GitLabTrust,
  extra: TokenSpec[] = [],
) {
  const conditions = [...original.Statement, ...converted.Statement].map((s) => s.Condition);
  const tokens = [...sampleTokens({ conditions, issuerHost: trust.issuerHost }), ...extra];
  expect(tokens.length).toBeGreaterThan(100);
  return tokens.filter((token) => {
    const request = { federatedPrincipal: trust.providerArn, context: tokenContext(trust.issuerHost, token) };
    return evaluateTrustPolicy(original, request).allowed !== evaluateTrustPolicy(converted, request).allowed;
  });
}

function holdsToOriginal(file: string, text?: string): string[] {
  const { result, configs, output } = convert(file, text);
  const checked: string[] = [];
  for (const config of configs) {
    for (const role of config.accounts.flatMap((a) => a.roles)) {
      const audited = result.roles.find((r) => r.role.name === role.name)!;
      // The converted side, as the synth builds it: the model's trust settings, the role's audiences, the lock.
      const converted = trustPolicyFor({
        ...trustSettingsOf(config.gitlab, config.lock, role),
        providerArn: audited.trust.providerArn,
        audiences: roleAudiences(config.gitlab, role),
        allow: role.allow,
      });
      const original = evaluablePolicy(audited.role.trustPolicy, audited.trust.providerArn);
      const base: TokenSpec = {
        projectPath: "acme/web",
        projectId: "1",
        namespaceId: "2",
        refType: "branch",
        ref: "main",
        refProtected: "false",
        aud: roleAudiences(config.gitlab, role)[0],
        subComponents: ["project_path", "ref_type", "ref"],
      };
      const neighbours: TokenSpec[] = [
        base,
        { ...base, projectPath: "acme/platform/deep/svc", refType: "tag", ref: "v2.0.0" },
        { ...base, projectPath: "acme/platform-evil/svc", refType: "tag", ref: "v2.0.0" },
        { ...base, ref: "release/x" },
        { ...base, refType: "tag", ref: "main" },
      ];
      // A narrowed role (an aud added to a sub-only trust) may refuse other audiences' tokens, nothing else.
      const added = output.narrowed.find((n) => n.name === role.name)?.audience;
      const found = disagreements(original, converted, audited.trust, neighbours).filter(
        (token) => added === undefined || token.aud === added,
      );
      expect(found).toEqual([]);
      checked.push(role.name);
    }
  }
  return checked;
}

describe("--to-config round trips, held to the evaluator", () => {
  test("get-account-authorization-details: the expressible roles convert with the same decisions", () => {
    // GIVEN an account with roles of every kind; WHEN converted; THEN the expressible ones match the originals
    expect(holdsToOriginal("account-authorization-details.json").sort()).toEqual([
      "gitlab-any-branch",
      "gitlab-group-deploy",
      "gitlab-pinned-deploy",
      "gitlab-tutorial-main",
    ]);
  });

  test("the group statement becomes group: acme/platform (not a project), policies and path carried over", () => {
    const { configs } = convert("account-authorization-details.json");
    const config = configs.find((c) => c.accounts[0].roles.some((r) => r.name === "gitlab-group-deploy"))!;
    const role = config.accounts[0].roles.find((r) => r.name === "gitlab-group-deploy")!;
    // No ref_protected and no IDs in the policy: protected: false on each grant, pinIds: false on the role.
    expect(role.allow).toEqual([
      { project: "acme/web", branches: ["main", "release/*"], protected: false },
      { group: "acme/platform", tags: ["v*"], protected: false },
    ]);
    expect(config.gitlab.pinIds).toBeUndefined();
    expect(role.pinIds).toBe(false);
    expect(role).toMatchObject({
      path: "/gitlab/",
      managedPolicyArns: ["arn:aws:iam::aws:policy/ReadOnlyAccess"],
      inlinePolicies: { "deploy-assets": expect.objectContaining({ Version: "2012-10-17" }) },
      tags: { team: "web" },
    });
    expect(config.accounts[0]).toMatchObject({ accountId: "111111111111", adopt: true });
  });

  test.each([
    "get-role-self-managed-ok.json",
    "url-encoded-get-role.json",
    "group-anyref-protected-pinned.json",
  ])("%s", (file) => {
    const converted = holdsToOriginal(file);
    expect(converted).toHaveLength(1);
  });

  test("shapes written by hand: anyRef, tags only, exact+pattern ANDed, a dead StringEquals wildcard", () => {
    const statement = (condition: Record<string, unknown>) => ({
      Effect: "Allow",
      Principal: { Federated: "arn:aws:iam::333333333333:oidc-provider/gitlab.com" },
      Action: "sts:AssumeRoleWithWebIdentity",
      Condition: condition,
    });
    const aud = { "gitlab.com:aud": "https://gitlab.com" };
    const roles = [
      [
        "any-ref",
        [
          statement({
            StringEquals: aud,
            StringLike: { "gitlab.com:sub": "project_path:acme/web:ref_type:*" },
          }),
        ],
      ],
      [
        "tags",
        [
          statement({
            StringEquals: aud,
            StringLike: { "gitlab.com:sub": ["project_path:acme/*:ref_type:tag:ref:v?.*"] },
          }),
        ],
      ],
      [
        "anded",
        [
          statement({
            StringEquals: {
              ...aud,
              "gitlab.com:sub": [
                "project_path:acme/web:ref_type:branch:ref:main",
                "project_path:acme/api:ref_type:branch:ref:main",
              ],
            },
            StringLike: { "gitlab.com:sub": "project_path:acme/web:*" },
          }),
        ],
      ],
      [
        "dead-wildcard",
        [
          statement({
            StringEquals: {
              ...aud,
              "gitlab.com:sub": [
                "project_path:acme/*:ref_type:branch:ref:main",
                "project_path:acme/ops:ref_type:branch:ref:main",
              ],
            },
          }),
        ],
      ],
    ] as const;
    const text = JSON.stringify({
      RoleDetailList: roles.map(([name, statements]) => ({
        RoleName: name,
        Arn: `arn:aws:iam::333333333333:role/${name}`,
        AssumeRolePolicyDocument: { Version: "2012-10-17", Statement: statements },
      })),
    });
    expect(holdsToOriginal("hand-written.json", text).sort()).toEqual([
      "anded",
      "any-ref",
      "dead-wildcard",
      "tags",
    ]);
    const { output } = convert("hand-written.json", text);
    expect(output.yaml).toContain(
      "# anded: statement 1: StringEquals and StringLike on gitlab.com:sub are ANDed; kept project_path:acme/web:ref_type:branch:ref:main",
    );
  });

  test("trust v2: a pinned, protected trust converts to pinned grants, the IDs named for the lock", () => {
    const { configs, output } = convert("account-authorization-details.json");
    const pinned = configs.find((c) => c.accounts[0].roles.some((r) => r.name === "gitlab-pinned-deploy"))!;
    expect(pinned.gitlab.pinIds).toBeUndefined(); // gitlab.com's default: pinned
    const pinnedRole = pinned.accounts[0].roles.find((r) => r.name === "gitlab-pinned-deploy")!;
    expect(pinnedRole.pinIds).toBeUndefined();
    expect(pinnedRole.allow).toEqual([{ project: "acme/web", branches: ["main"] }]);
    expect(output.lock.projects["acme/web"]).toMatchObject({ id: 4242 });
    expect(output.yaml).toContain("#   project acme/web: id 4242");
    const group = convert("group-anyref-protected-pinned.json");
    expect(group.configs[0].accounts[0].roles[0].allow).toEqual([{ group: "acme", anyRef: true }]);
    expect(group.output.lock.groups.acme).toEqual({ id: 1234, descendantIds: [] });
  });

  test("trust v2: roles of one issuer with different audiences share a config, each naming its own", () => {
    const role = (name: string, aud: string) => ({
      RoleName: name,
      Arn: `arn:aws:iam::333333333333:role/${name}`,
      AssumeRolePolicyDocument: {
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Principal: { Federated: "arn:aws:iam::333333333333:oidc-provider/gitlab.com" },
            Action: "sts:AssumeRoleWithWebIdentity",
            Condition: {
              StringEquals: {
                "gitlab.com:aud": aud,
                "gitlab.com:sub": "project_path:acme/web:ref_type:branch:ref:main",
              },
            },
          },
        ],
      },
    });
    const text = JSON.stringify({
      RoleDetailList: [
        role("a", "https://gitlab.com"),
        role("b", "https://gitlab.com"),
        role("c", "sts.amazonaws.com"),
      ],
    });
    expect(holdsToOriginal("audiences.json", text).sort()).toEqual(["a", "b", "c"]);
    const { configs } = convert("audiences.json", text);
    expect(configs).toHaveLength(1);
    expect(configs[0].gitlab.audience).toBe("https://gitlab.com");
    expect(configs[0].accounts[0].roles.find((r) => r.name === "c")?.audience).toBe("sts.amazonaws.com");
  });

  test("roles without a safe equivalent say why, and the exit code says some were refused", () => {
    const { output } = convert("account-authorization-details.json");
    const reasons = Object.fromEntries(output.refused.map((r) => [r.name, r.reason]));
    expect(reasons.gitlab_action_oidc_aws).toMatch(/no sub condition \(aud only\)/);
    expect(reasons["gitlab-any-project"]).toMatch(/matches projects the config cannot name/);
    expect(reasons["gitlab-prefix"]).toMatch(/matches projects the config cannot name/);
    expect(reasons["gitlab-tutorial-main"]).toBeUndefined(); // converts, narrowed (test/audit-adoption.test.ts)
    expect(reasons["gitlab-equals-wildcard"]).toMatch(/no GitLab job can assume it today/);
    expect(output.yaml).toContain("# not converted: gitlab_action_oidc_aws: ");
    expect(output.yaml).not.toMatch(/ec2-instance-role|github-actions-deploy/);
  });
});

/** What adoption starts from (planned with the real provider: test/slow/adopt-plan.test.ts). */
describe("--to-config of a hand-made role, for adoption", () => {
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
