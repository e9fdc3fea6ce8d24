/**
 * `environments:` grants (issue 24): only jobs deploying to a (protected) environment of a tier. Trust
 * policies are synthesized to HCL, read back from disk and evaluated as IAM does, against tokens whose
 * `sub` GitLab formats with the environment parts (present only for a job with an environment).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { DEFAULT_AUDIENCE } from "../src/config/rules";
import { evaluateTrustPolicy } from "../src/iam/evaluate";
import { formatSubClaim, requestContextFor, type SubClaimComponent } from "../src/model/claims";
import { policyLength, trustPolicyFor } from "../src/model/trust-policy";
import type { SynthesizedStack } from "../src/terraform/synthesized-stacks";
import { lockFor, parse, problemsOf, synthesizeToTemp, type RawConfig } from "./support/configs";
import { PRODUCTION_GRANT, productionConfig, SUB_WITH_ENVIRONMENT } from "./support/environment-configs";

/** A pipeline job as its ID token describes it; `environment` is what `environment:` in the job gives. */
interface Deployment {
  readonly project: string;
  readonly branch?: string;
  readonly refProtected?: boolean;
  readonly environment?: { readonly protected: boolean; readonly tier: string };
}

/** Would the job get the role, per the trust policy synthesized to disk and read back? */
function admits(stack: SynthesizedStack, subClaim: readonly SubClaimComponent[], job: Deployment): boolean {
  const lock = lockFor(productionConfig({}, [{ project: job.project }]));
  const locked = lock.projects[job.project];
  const values = {
    project_path: job.project,
    project_id: String(locked.id),
    ref_type: "branch",
    ref: job.branch ?? "main",
    ref_protected: String(job.refProtected ?? true),
    ...(job.environment
      ? { environment_protected: String(job.environment.protected), deployment_tier: job.environment.tier }
      : {}),
  };
  const token = {
    ...values,
    namespace_id: String(locked.namespaceId),
    sub: formatSubClaim(subClaim, values),
  };
  const host = stack.providerUrl.replace(/^https:\/\//, "");
  return evaluateTrustPolicy(stack.roles[0].trustPolicy, {
    federatedPrincipal: stack.providerReference,
    // The role's audience: the default one (gitlab.audience unset), sts.amazonaws.com.
    context: requestContextFor(host, token, stack.providerAudiences?.[0] ?? DEFAULT_AUDIENCE),
  }).allowed;
}

const PROTECTED_PRODUCTION = { protected: true, tier: "production" };

describe.each([
  ["gitlab.com (IDs pinned)", { url: "https://gitlab.com", subClaim: SUB_WITH_ENVIRONMENT }],
  [
    "a self-managed instance (ref_protected in sub)",
    { url: "https://gitlab.example.com", subClaim: [...SUB_WITH_ENVIRONMENT, "ref_protected"] },
  ],
])("a production-tier grant on %s", (_name, gitlab) => {
  const subClaim = gitlab.subClaim as SubClaimComponent[];
  let stack: SynthesizedStack;
  let cleanup: () => void;
  beforeAll(async () => {
    // GIVEN a role whose one grant demands a protected environment of tier production
    const raw = productionConfig(gitlab, [PRODUCTION_GRANT]);
    ({
      stacks: [stack],
      cleanup,
    } = await synthesizeToTemp(parse(raw)));
  });
  afterAll(() => cleanup());

  test("admits the project's job deploying to a protected production environment", () => {
    expect(admits(stack, subClaim, { project: "acme/web", environment: PROTECTED_PRODUCTION })).toBe(true);
  });

  test.each<[string, Deployment]>([
    ["the same job without an environment", { project: "acme/web" }],
    ["a staging environment", { project: "acme/web", environment: { protected: true, tier: "staging" } }],
    [
      "an unprotected production environment",
      { project: "acme/web", environment: { protected: false, tier: "production" } },
    ],
    ["another project's production deployment", { project: "acme/api", environment: PROTECTED_PRODUCTION }],
    [
      "another branch's production deployment",
      { project: "acme/web", branch: "develop", environment: PROTECTED_PRODUCTION },
    ],
    [
      "a production deployment from an unprotected ref",
      { project: "acme/web", refProtected: false, environment: PROTECTED_PRODUCTION },
    ],
  ])("denies %s", (_what, job) => {
    expect(admits(stack, subClaim, job)).toBe(false);
  });

  test("the trust policy names only sub values with the environment parts", () => {
    const subs = stack.roles[0].trustPolicy.Statement.flatMap((s) =>
      Object.entries(s.Condition).flatMap(([, keys]) =>
        Object.entries(keys)
          .filter(([key]) => key.endsWith(":sub"))
          .flatMap(([, values]) => values),
      ),
    );
    expect(subs.length).toBeGreaterThan(0);
    for (const sub of subs) expect(sub).toContain(":environment_protected:true:deployment_tier:production");
  });
});

describe("environments: other shapes", () => {
  test("a grant without environments still admits jobs with and without one; tiers and protection combine", async () => {
    // GIVEN one grant for any job of acme/api, and one for acme/web's staging or production, protected or not
    const raw = productionConfig({ url: "https://gitlab.com", subClaim: SUB_WITH_ENVIRONMENT }, [
      { project: "acme/api", branches: ["main"] },
      {
        project: "acme/web",
        branches: ["main"],
        environments: { tiers: ["staging", "production"], protected: false },
      },
    ]);
    const { stacks, cleanup } = await synthesizeToTemp(parse(raw));
    try {
      const [stack] = stacks;
      const api = (environment?: Deployment["environment"]) =>
        admits(stack, SUB_WITH_ENVIRONMENT, { project: "acme/api", ...(environment ? { environment } : {}) });
      const web = (environment?: Deployment["environment"]) =>
        admits(stack, SUB_WITH_ENVIRONMENT, { project: "acme/web", ...(environment ? { environment } : {}) });
      // THEN acme/api is unrestricted by environment, acme/web needs one of the two tiers
      expect([api(), api({ protected: false, tier: "development" })]).toEqual([true, true]);
      expect(web()).toBe(false);
      expect(web({ protected: false, tier: "staging" })).toBe(true);
      expect(web({ protected: true, tier: "production" })).toBe(true);
      expect(web({ protected: true, tier: "development" })).toBe(false);
    } finally {
      cleanup();
    }
  });

  test("protected environments of any tier need only environment_protected in sub", async () => {
    const subClaim: SubClaimComponent[] = ["project_path", "ref_type", "ref", "environment_protected"];
    const raw = productionConfig({ url: "https://gitlab.com", subClaim }, [
      { project: "acme/web", branches: ["main"], environments: {} },
    ]);
    const { stacks, cleanup } = await synthesizeToTemp(parse(raw));
    try {
      const job = (environment?: Deployment["environment"]) =>
        admits(stacks[0], subClaim, { project: "acme/web", ...(environment ? { environment } : {}) });
      expect(job({ protected: true, tier: "other" })).toBe(true);
      expect(job({ protected: false, tier: "production" })).toBe(false);
      expect(job()).toBe(false);
    } finally {
      cleanup();
    }
  });
});

describe("environments: refused where sub cannot carry them", () => {
  test.each<[string, SubClaimComponent[] | undefined, Record<string, unknown>, string[]]>([
    ["the default sub", undefined, { tiers: ["production"] }, ["environment_protected", "deployment_tier"]],
    [
      "a sub without deployment_tier",
      ["project_path", "ref_type", "ref", "environment_protected"],
      { tiers: ["production"] },
      ["deployment_tier"],
    ],
    [
      "a sub without environment_protected",
      ["project_path", "ref_type", "ref", "deployment_tier"],
      { tiers: ["production"] },
      ["environment_protected"],
    ],
    [
      "any environment with no environment part",
      ["project_path", "ref_type", "ref"],
      { protected: false },
      [],
    ],
  ])("%s: refused, naming the components to add", (_what, subClaim, environments, missing) => {
    const raw = productionConfig({ url: "https://gitlab.com", ...(subClaim ? { subClaim } : {}) }, [
      { project: "acme/web", branches: ["main"], environments },
    ]);
    const problems = problemsOf(raw).join("\n");
    expect(problems).toContain("accounts[0].roles[0].allow[0].environments");
    expect(problems).toContain("gitlab.subClaim");
    expect(problems).toContain("ci_id_token_sub_claim_components");
    for (const component of missing) expect(problems).toContain(component);
  });

  test("tiers are GitLab's deployment tiers", () => {
    const raw = productionConfig({ url: "https://gitlab.com", subClaim: SUB_WITH_ENVIRONMENT }, [
      { project: "acme/web", branches: ["main"], environments: { tiers: ["prod"] } },
    ]);
    expect(problemsOf(raw).join("\n")).toContain("a deployment tier is one of production, staging");
  });

  test("a grant key named after the claim points to environments", () => {
    const raw = productionConfig({ url: "https://gitlab.com", subClaim: SUB_WITH_ENVIRONMENT }, [
      { project: "acme/web", branches: ["main"], deployment_tier: "production" },
    ]);
    expect(problemsOf(raw).join("\n")).toContain("environments: { tiers: [");
  });
});

describe("measured: a typical production role against the default 2,048-character quota", () => {
  test.each([
    ["gitlab.com, IDs pinned, path-first sub", { url: "https://gitlab.com", subClaim: SUB_WITH_ENVIRONMENT }],
    [
      "gitlab.com, project_id-first sub",
      {
        url: "https://gitlab.com",
        subClaim: ["project_id", "ref_type", "ref", "environment_protected", "deployment_tier"],
      },
    ],
    [
      "self-managed, ref_protected in sub",
      { url: "https://gitlab.example.com", subClaim: [...SUB_WITH_ENVIRONMENT, "ref_protected"] },
    ],
  ])("%s", (name, gitlab) => {
    // GIVEN a production role: two services' main branch and release tags, protected production only
    const allow = ["acme/web", "acme/api"].map((project) => ({
      project,
      branches: ["main"],
      tags: ["v*"],
      environments: { tiers: ["production"] },
    }));
    const config = parse(productionConfig(gitlab, allow));
    const host = config.gitlab.url.replace(/^https:\/\//, "");
    const policy = trustPolicyFor({
      providerArn: `arn:aws:iam::111111111111:oidc-provider/${host}`,
      issuerHost: host,
      audiences: [config.gitlab.url],
      pinIds: host === "gitlab.com",
      ...(config.gitlab.subClaim ? { subClaim: config.gitlab.subClaim } : {}),
      ...(config.lock ? { lock: config.lock } : {}),
      allow: config.accounts[0].roles[0].allow,
    });
    const length = policyLength(policy);
    console.log(`production role trust policy (${name}): ${length} of 2048 characters`);
    // THEN it fits the default quota with room to spare
    expect(length).toBeLessThanOrEqual(2048);
  });
});

describe("docs/config.md's production-role recipe", () => {
  test("its trust policy and length are what the recipe synthesizes to", () => {
    // GIVEN the recipe's config, with the ID the doc shows in the lock
    const text = readFileSync(join(__dirname, "..", "docs", "config.md"), "utf8");
    const section = text.slice(text.indexOf("## Production roles: protected environments"));
    const yamlBlock = /```yaml\n([\s\S]*?)```/.exec(section)?.[1] ?? "";
    const raw = parseYaml(yamlBlock) as RawConfig;
    const config = parse(raw, {
      projects: { "acme/web": { id: 48213507, namespaceId: 48211942 } },
      groups: {},
    });
    // WHEN its trust policy is built as the stacks build it
    const role = config.accounts[0].roles[0];
    const policy = trustPolicyFor({
      providerArn: "arn:aws:iam::111111111111:oidc-provider/gitlab.com",
      issuerHost: "gitlab.com",
      audiences: [role.audience as string],
      pinIds: true,
      ...(config.gitlab.subClaim ? { subClaim: config.gitlab.subClaim } : {}),
      ...(config.lock ? { lock: config.lock } : {}),
      allow: role.allow,
    });
    // THEN the doc shows its one sub value, its conditions, and its measured length
    const [statement] = policy.Statement;
    expect(policy.Statement).toHaveLength(1);
    for (const [key, values] of Object.entries(statement.Condition.StringEquals)) {
      expect(section.replace(/\s+/g, " ")).toContain(
        `variable = "${key}", values = [${values.map((v) => `"${v}"`).join(", ")}]`,
      );
    }
    expect(section).toContain(`(${policyLength(policy)} characters of the default 2,048-character quota`);
  });
});
