/**
 * Semantic tests: the trust policies as synthesized into HCL, read back and evaluated the way IAM
 * evaluates them, against the claims GitLab puts in real ID tokens.
 */
import { evaluateTrustPolicy, stringLike } from "../src/iam/evaluate";
import { formatSubject, operatorFor, projectPattern, subjectsForGrant } from "../src/model/subjects";
import { policyLength, trustPolicyFor } from "../src/model/trust-policy";
import type { SynthesizedStack } from "../src/terraform/synthesized-stacks";
import { minimalConfig, parse, synthesizeToTemp } from "./support/configs";

const AUD = "https://gitlab.com";

/** Would a job with this `sub` (and `aud`) get the role, per the synthesized trust policy? */
function allows(
  stack: SynthesizedStack,
  role: string,
  sub: string | undefined,
  aud: string | undefined = AUD,
) {
  const found = stack.roles.find((r) => r.name === role);
  if (!found) throw new Error(`no role ${role} in ${stack.name}`);
  return evaluateTrustPolicy(found.trustPolicy, {
    federatedPrincipal: stack.providerReference,
    context: { "gitlab.com:sub": sub, "gitlab.com:aud": aud },
  }).allowed;
}

const branch = (project: string, ref: string) => formatSubject(project, "branch", ref);
const tag = (project: string, ref: string) => formatSubject(project, "tag", ref);

describe("subjects", () => {
  test("GitLab's default sub claim format", () => {
    expect(formatSubject("agroup/bgroup/myproject", "tag", "v4.2.0")).toBe(
      "project_path:agroup/bgroup/myproject:ref_type:tag:ref:v4.2.0",
    );
  });

  test("a group grant ends the group with a slash, so siblings cannot match", () => {
    expect(projectPattern({ group: "acme/platform" })).toBe("acme/platform/*");
  });

  test("the operator follows from the value", () => {
    expect(operatorFor(branch("acme/web", "main"))).toBe("StringEquals");
    expect(operatorFor(branch("acme/web", "release/*"))).toBe("StringLike");
    expect(operatorFor(tag("acme/web", "v?"))).toBe("StringLike");
  });

  test("anyRef is one pattern over both ref types", () => {
    expect(subjectsForGrant({ project: "acme/web", anyRef: true })).toEqual([
      "project_path:acme/web:ref_type:*",
    ]);
  });
});

describe("trust policy structure", () => {
  const policy = trustPolicyFor({
    providerArn: "arn:aws:iam::111111111111:oidc-provider/gitlab.com",
    issuerHost: "gitlab.com",
    audiences: [AUD],
    allow: [
      { project: "acme/web", branches: ["main", "release/*"] },
      { group: "acme/platform", tags: ["v*"] },
    ],
  });

  test("exact and wildcard subjects are separate statements (ORed), never two operators ANDed", () => {
    // THEN one statement holds the exact subjects under StringEquals, the other the patterns under StringLike
    expect(policy.Statement.map((s) => Object.keys(s.Condition).sort())).toEqual([
      ["StringEquals"],
      ["StringEquals", "StringLike"],
    ]);
    expect(policy.Statement[0].Condition.StringEquals["gitlab.com:sub"]).toEqual([
      branch("acme/web", "main"),
    ]);
    expect(policy.Statement[1].Condition.StringLike["gitlab.com:sub"]).toEqual([
      branch("acme/web", "release/*"),
      tag("acme/platform/*", "v*"),
    ]);
  });

  test("every statement requires aud with StringEquals and constrains sub; no wildcard under StringEquals", () => {
    for (const statement of policy.Statement) {
      expect(statement.Condition.StringEquals["gitlab.com:aud"]).toEqual([AUD]);
      const subValues = [
        ...(statement.Condition.StringEquals["gitlab.com:sub"] ?? []),
        ...(statement.Condition.StringLike?.["gitlab.com:sub"] ?? []),
      ];
      expect(subValues.length).toBeGreaterThan(0);
      for (const value of statement.Condition.StringEquals["gitlab.com:sub"] ?? [])
        expect(value).not.toMatch(/[*?]/);
    }
  });

  test("its length is what IAM counts: compact JSON, one-element lists as strings", () => {
    const compact = JSON.stringify(policy).replace(/\["([^"]*)"\]/g, '"$1"');
    expect(policyLength(policy)).toBe(compact.length);
  });
});

describe("StringLike as IAM defines it", () => {
  test.each([
    ["release/*", "release/1.2/hotfix", true],
    ["release/*", "releases/1", false],
    ["v?", "v1", true],
    ["v?", "v10", false],
    ["a*b", "a:x/y:b", true],
    ["Main", "main", false],
    ["a.b", "axb", false],
    ["(x)+", "(x)+", true],
  ])("%s ~ %s → %s", (pattern, value, expected) => {
    expect(stringLike(pattern, value)).toBe(expected);
  });
});

describe("the synthesized example", () => {
  let stacks: SynthesizedStack[];
  let cleanup: () => void;
  beforeAll(async () => {
    const { parseConfig } = await import("../src/config/load");
    const { readFileSync } = await import("node:fs");
    const config = parseConfig(readFileSync(`${__dirname}/../gitlab-oidc.yaml`, "utf8"));
    ({ stacks, cleanup } = await synthesizeToTemp(config));
  });
  afterAll(() => cleanup());

  const production = () => stacks.find((s) => s.name === "production")!;

  test.each([
    ["the exact branch", branch("acme/web", "main")],
    ["a release branch", branch("acme/web", "release/2.0")],
    ["a nested release branch", branch("acme/web", "release/2.0/rc.1")],
    ["a tag in a project of the group", tag("acme/platform/api", "v1.2.0")],
    ["a tag in a deeper project of the group", tag("acme/platform/tools/cli", "v3")],
  ])("allows %s", (_name, sub) => {
    expect(allows(production(), "gitlab-deploy-web", sub)).toBe(true);
  });

  test.each([
    ["another branch of the project", branch("acme/web", "feature/x")],
    ["a branch that only starts like an allowed one", branch("acme/web", "main-old")],
    ["a tag named like the allowed branch", tag("acme/web", "main")],
    ["a branch named like the allowed tags, in the group", branch("acme/platform/api", "v1.2.0")],
    ["a sibling namespace with a suffix", tag("acme/platform-evil/api", "v1")],
    ["a sibling namespace without separator", tag("acme/platformx/api", "v1")],
    ["the group itself as a project path", tag("acme/platform", "v1")],
    ["another namespace with the same project name", branch("evil/acme/web", "main")],
    ["a differently cased project", branch("Acme/Web", "main")],
    ["a project under the allowed project", branch("acme/web/sub", "main")],
  ])("denies %s", (_name, sub) => {
    expect(allows(production(), "gitlab-deploy-web", sub)).toBe(false);
  });

  test("denies a token with the right sub but another audience", () => {
    expect(
      allows(production(), "gitlab-deploy-web", branch("acme/web", "main"), "https://gitlab.example.com"),
    ).toBe(false);
    expect(allows(production(), "gitlab-deploy-web", branch("acme/web", "main"), "sts.amazonaws.com")).toBe(
      false,
    );
  });

  test("denies an aud-only token (no sub), so not every gitlab.com project gets in", () => {
    expect(allows(production(), "gitlab-deploy-web", undefined)).toBe(false);
  });

  test("denies a request from another identity provider", () => {
    const role = production().roles[0];
    const result = evaluateTrustPolicy(role.trustPolicy, {
      federatedPrincipal: "arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com",
      context: { "gitlab.com:sub": branch("acme/web", "main"), "gitlab.com:aud": AUD },
    });
    expect(result.allowed).toBe(false);
  });

  test("staging allows any branch of acme/web, but no tag and no other project", () => {
    const staging = stacks.find((s) => s.name === "staging")!;
    expect(allows(staging, "gitlab-deploy-web", branch("acme/web", "anything/at/all"))).toBe(true);
    expect(allows(staging, "gitlab-deploy-web", tag("acme/web", "v1"))).toBe(false);
    expect(allows(staging, "gitlab-deploy-web", branch("acme/webx", "main"))).toBe(false);
    expect(allows(staging, "gitlab-terraform-plan", branch("acme/platform/infra", "main"))).toBe(true);
    expect(allows(staging, "gitlab-terraform-plan", branch("acme/platform/infra", "develop"))).toBe(false);
  });
});

describe("synthesized edge cases", () => {
  test("exact and wildcard subjects of one role are ORed: each alone is enough", async () => {
    // GIVEN a role granting one exact branch and one pattern
    const config = parse(
      minimalConfig({ allow: [{ project: "acme/web", branches: ["main", "release/*"] }] }),
    );
    const { stacks, cleanup } = await synthesizeToTemp(config);
    try {
      // THEN the exact branch (no pattern matches it) and a pattern branch (no exact value) both pass
      expect(allows(stacks[0], "deploy", branch("acme/web", "main"))).toBe(true);
      expect(allows(stacks[0], "deploy", branch("acme/web", "release/1"))).toBe(true);
    } finally {
      cleanup();
    }
  });

  test("a top-level group covers every depth but not a longer top-level name", async () => {
    const config = parse(minimalConfig({ allow: [{ group: "acme", branches: ["main"] }] }));
    const { stacks, cleanup } = await synthesizeToTemp(config);
    try {
      expect(allows(stacks[0], "deploy", branch("acme/a/b/c/d", "main"))).toBe(true);
      expect(allows(stacks[0], "deploy", branch("acme-evil/web", "main"))).toBe(false);
      expect(allows(stacks[0], "deploy", branch("acmecorp/web", "main"))).toBe(false);
    } finally {
      cleanup();
    }
  });

  test("several audiences are ORed, and the self-managed issuer names the condition keys", async () => {
    const config = parse({
      ...minimalConfig({ allow: [{ project: "acme/web", tags: ["v*"] }] }),
      gitlab: { url: "https://example.com/gitlab", audience: ["aws", "sts.amazonaws.com"] },
    });
    const { stacks, cleanup } = await synthesizeToTemp(config);
    try {
      const role = stacks[0].roles[0];
      const ask = (aud: string) =>
        evaluateTrustPolicy(role.trustPolicy, {
          federatedPrincipal: stacks[0].providerReference,
          context: { "example.com/gitlab:sub": tag("acme/web", "v1"), "example.com/gitlab:aud": aud },
        }).allowed;
      expect(ask("aws")).toBe(true);
      expect(ask("sts.amazonaws.com")).toBe(true);
      expect(ask("https://example.com/gitlab")).toBe(false);
      expect(stacks[0].providerAudiences).toEqual(["aws", "sts.amazonaws.com"]);
    } finally {
      cleanup();
    }
  });
});
