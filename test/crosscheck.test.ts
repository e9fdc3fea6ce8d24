/**
 * Cross-check: the project's IAM evaluator (src/iam/evaluate.ts) against an independent one
 * (@cloud-copilot/iam-simulate, AGPL: test-only), and both against an "intended" oracle written
 * directly from the config's allow entries, over randomized (seeded, so reproducible) GitLab claims.
 * The same cases also check `explain`: same verdict, a denial names a differing part, and setting a
 * single differing part to what the closest grant names turns the denial into an allow.
 */
import { createValidatedPolicy, validateTrustPolicy } from "@cloud-copilot/iam-policy";
import { runUnsafeSimulation } from "@cloud-copilot/iam-simulate";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig } from "../src/config/load";
import type { AllowEntry, Config } from "../src/config/schema";
import { explainAccess } from "../src/explain/explain";
import { evaluateTrustPolicy } from "../src/iam/evaluate";
import type { IamPolicyDocument } from "../src/model/trust-policy";
import { synthesize } from "../src/synth";
import { readSynthesizedStacks, type SynthesizedStack } from "../src/terraform/synthesized-stacks";

const SEED = 20251125;
const CASES_PER_CONFIG = 3400;

/** mulberry32: a small deterministic PRNG, so a failure can be replayed from SEED. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Configs built in code (JSON is YAML), each parsed and synthesized like gitlab-oidc.yaml.
const account = (name: string, accountId: string, roles: unknown[]) => ({
  name,
  accountId,
  region: "eu-west-1",
  roles,
});
const role = (name: string, allow: unknown[]) => ({ name, allow });

const CONFIGS: Record<string, unknown> = {
  gitlabCom: {
    gitlab: { url: "https://gitlab.com" },
    accounts: [
      account("prod", "111111111111", [
        role("deploy", [
          { project: "acme/web", branches: ["main", "release/*"] },
          { group: "acme/platform", tags: ["v*"] },
        ]),
        role("plan", [{ group: "acme/platform", branches: ["main"], tags: ["v?.*"] }]),
      ]),
      account("dev", "222222222222", [
        role("any", [{ project: "acme/web", anyRef: true }]),
        role("features", [
          { project: "acme/web", branches: ["*"] },
          { group: "acme/platform/team-a", anyRef: true },
        ]),
      ]),
    ],
  },
  selfManaged: {
    gitlab: {
      url: "https://gitlab.example.com/gitlab",
      audience: ["https://gitlab.example.com/gitlab", "sts.amazonaws.com"],
    },
    accounts: [
      account("ops", "333333333333", [
        role("release", [
          { project: "ops/infra.tools", tags: ["release-?.?", "v1.*"] },
          { group: "ops", branches: ["main", "hotfix-*"] },
        ]),
        role("exact", [{ project: "team.x/svc-a", branches: ["main", "develop"], tags: ["1.0.0"] }]),
      ]),
    ],
  },
  deepGroups: {
    gitlab: { url: "https://git.acme.io", audience: "aws" },
    accounts: [
      account("a", "444444444444", [
        role("deep", [
          { group: "acme/platform/team-a/sub", branches: ["feature/*/done", "main"] },
          { project: "acme/platform-evil/x", tags: ["v*"] },
          { group: "acme/platformx", branches: ["ma?n"] },
        ]),
      ]),
      account("b", "555555555555", [role("dots", [{ group: "a.b", branches: ["r.1", "*-stable"] }])]),
    ],
  },
};

/** Independent glob for `*` (any run, including `/`) and `?` (one character): dynamic programming. */
function glob(pattern: string, value: string): boolean {
  let row = new Array<boolean>(value.length + 1).fill(false);
  row[0] = true;
  for (const p of pattern) {
    const next = new Array<boolean>(value.length + 1).fill(false);
    if (p === "*") {
      for (let j = 0; j <= value.length; j++) next[j] = row[j] || (j > 0 && next[j - 1]);
    } else {
      for (let j = 1; j <= value.length; j++) next[j] = row[j - 1] && (p === "?" || p === value[j - 1]);
    }
    row = next;
  }
  return row[value.length];
}

interface Claims {
  readonly project: string;
  readonly refType: "branch" | "tag";
  readonly ref: string;
  readonly aud: string;
  /** The provider ARN the request comes through. */
  readonly principal: string;
}

/** What the config means, straight from the allow entries: no trust policy, no IAM semantics. */
function intended(
  config: Config,
  allow: readonly AllowEntry[],
  providerArn: string,
  claims: Claims,
): boolean {
  const audiences = config.gitlab.audience ?? config.gitlab.url;
  if (!(Array.isArray(audiences) ? audiences : [audiences]).includes(claims.aud)) return false;
  if (claims.principal !== providerArn) return false;
  return allow.some((entry) => {
    const projectOk =
      entry.project !== undefined
        ? claims.project === entry.project
        : claims.project.startsWith(`${entry.group}/`) && claims.project.length > `${entry.group}/`.length;
    if (!projectOk) return false;
    if (entry.anyRef) return true;
    const patterns = claims.refType === "branch" ? entry.branches : entry.tags;
    return (patterns ?? []).some((pattern) => glob(pattern, claims.ref));
  });
}

/**
 * Claims near and far from a role's grants: most start from one of its entries (a hit) and then change
 * one part (a near miss: sibling namespace, prefix, deeper path, swapped ref type, changed ref, wrong
 * audience or provider); the rest are drawn from every entry of the config.
 */
function claimGenerator(config: Config, random: () => number) {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
  const allEntries = config.accounts.flatMap((a) => a.roles.flatMap((r) => r.allow));
  const segment = () => pick(["x", "web", "a", "sub", "team-a", "api.v2", "z_z", "evil", "platform"]);
  const under = (entry: AllowEntry): string =>
    entry.project ??
    (random() < 0.7
      ? `${entry.group}/${segment()}`
      : `${entry.group}/${segment()}/${segment()}/${segment()}`);
  const mutateProject = (base: string): string => {
    switch (Math.floor(random() * 9)) {
      case 0:
        return base;
      case 1:
        return `${base}/${segment()}`;
      case 2:
        return `${base}/${segment()}/${segment()}/${segment()}`;
      case 3:
        return `${base}-evil/${segment()}`;
      case 4:
        return `${base}x`;
      case 5:
        return base.slice(0, -1) || "a";
      case 6:
        return base.includes("/") ? base.slice(0, base.lastIndexOf("/")) : `${base}/${segment()}`;
      case 7:
        return base.toUpperCase();
      default:
        return `other/${base}`;
    }
  };
  const literal = (pattern: string) =>
    pattern
      .replace(/\*/g, () => pick(["", "1", "a/b", "x.y-z", "feature/"]))
      .replace(/\?/g, () => pick(["1", "a", "/", "."]));
  const mutateRef = (ref: string): string => {
    switch (Math.floor(random() * 6)) {
      case 0:
        return `${ref}${pick(["x", "/y", ".1", "-"])}`;
      case 1:
        return `${pick(["x", "pre/", "v", "."])}${ref}`;
      case 2:
        return ref.slice(0, -1) || "m";
      case 3:
        return ref.toUpperCase();
      case 4:
        return pick([
          "main",
          "develop",
          "v1.2.0",
          "release/1.2",
          "feature/x/done",
          "hotfix-1",
          "1.0.0",
          "r.1",
          "r-1",
        ]);
      default:
        return Array.from({ length: 1 + Math.floor(random() * 3) }, () =>
          pick(["a", "v1", "x.y", "b-c", "rel"]),
        ).join(pick(["/", ".", "-"]));
    }
  };
  const refOf = (entry: AllowEntry): { refType: "branch" | "tag"; ref: string } => {
    const refs = [
      ...(entry.branches ?? []).map((p) => ({ refType: "branch" as const, pattern: p })),
      ...(entry.tags ?? []).map((p) => ({ refType: "tag" as const, pattern: p })),
    ];
    if (refs.length === 0) return { refType: random() < 0.5 ? "branch" : "tag", ref: mutateRef("main") };
    const chosen = pick(refs);
    return { refType: chosen.refType, ref: literal(chosen.pattern) };
  };
  const audiences = [config.gitlab.audience ?? config.gitlab.url].flat();
  const wrongAudience = () =>
    pick([
      `${config.gitlab.url}/`,
      "https://gitlab.co",
      "https://evil.example.com",
      "sts.amazonaws.com",
      "AWS",
      "",
    ]);

  return (allow: readonly AllowEntry[], providerArns: readonly string[]): Claims => {
    const entry = random() < 0.8 ? pick(allow) : pick(allEntries);
    let project = under(entry);
    let { refType, ref } = refOf(entry);
    let aud = pick(audiences);
    let principal = providerArns[0];
    switch (Math.floor(random() * 8)) {
      case 0:
      case 1:
        break; // unchanged: a hit when the entry is the role's
      case 2:
        project = mutateProject(entry.project ?? entry.group ?? "");
        break;
      case 3:
        refType = refType === "branch" ? "tag" : "branch";
        break;
      case 4:
      case 5:
        ref = mutateRef(ref);
        break;
      case 6:
        aud = wrongAudience();
        break;
      default:
        if (random() < 0.5) principal = pick(providerArns.slice(1));
        else {
          project = mutateProject(project);
          ref = mutateRef(ref);
          refType = random() < 0.5 ? "branch" : "tag";
        }
    }
    return { project, refType, ref, aud, principal };
  };
}

/** The trust policy with the provider's Terraform reference replaced by a concrete ARN. */
function concretePolicy(
  stack: SynthesizedStack,
  policy: IamPolicyDocument,
  providerArn: string,
): IamPolicyDocument {
  return {
    ...policy,
    Statement: policy.Statement.map((s) => ({
      ...s,
      Principal: {
        Federated: s.Principal.Federated.map((p) => (p === stack.providerReference ? providerArn : p)),
      },
    })),
  };
}

describe("cross-check: evaluator vs iam-simulate vs intended grants", () => {
  const outRoot = mkdtempSync(join(tmpdir(), "explain-crosscheck-"));
  afterAll(() => rmSync(outRoot, { recursive: true, force: true }));

  test("≥ 10,000 seeded random claim sets: zero disagreements, zero grants outside the config", async () => {
    // GIVEN several configs, synthesized to HCL and read back as Terraform will deploy them
    const random = prng(SEED);
    let cases = 0;
    let allowedCases = 0;
    const disagreements: string[] = [];
    const overGrants: string[] = [];
    const underGrants: string[] = [];
    let simulateMs = 0;
    let explained = 0;
    let repairs = 0;
    const explainProblems: string[] = [];

    for (const [name, raw] of Object.entries(CONFIGS)) {
      const config = parseConfig(JSON.stringify(raw), `${name}.yaml`);
      const outdir = join(outRoot, name);
      synthesize(config, { outdir, hcl: true });
      const stacks = await readSynthesizedStacks(outdir);
      const host = config.gitlab.url.replace(/^https:\/\//, "");
      const next = claimGenerator(config, random);
      const roles = stacks.flatMap((stack) =>
        stack.roles.map((synthesized) => {
          const accountConfig = config.accounts.find((a) => a.name === stack.name);
          const roleConfig = accountConfig?.roles.find((r) => r.name === synthesized.name);
          if (!accountConfig || !roleConfig)
            throw new Error(`no config for ${stack.name}/${synthesized.name}`);
          const providerArn = `arn:aws:iam::${accountConfig.accountId}:oidc-provider/${host}`;
          const policy = concretePolicy(stack, synthesized.trustPolicy, providerArn);
          return {
            stack,
            roleConfig,
            providerArn,
            otherProviders: [
              `arn:aws:iam::999999999999:oidc-provider/${host}`,
              `${providerArn}x`,
              stack.providerReference,
            ],
            policy,
            validated: createValidatedPolicy(policy, validateTrustPolicy, {
              name: `${stack.name}/${synthesized.name}`,
            }),
            roleArn: `arn:aws:iam::${accountConfig.accountId}:role${synthesized.path}${synthesized.name}`,
            accountId: accountConfig.accountId,
          };
        }),
      );
      // The independent validator accepts every synthesized trust policy.
      for (const r of roles) expect(r.validated.errors).toEqual([]);

      // WHEN each random claim set is evaluated three ways for a random role
      for (let i = 0; i < CASES_PER_CONFIG; i++) {
        const r = roles[Math.floor(random() * roles.length)];
        const claims = next(r.roleConfig.allow, [r.providerArn, ...r.otherProviders]);
        const sub = `project_path:${claims.project}:ref_type:${claims.refType}:ref:${claims.ref}`;
        const context = { [`${host}:sub`]: sub, [`${host}:aud`]: claims.aud };
        const ours = evaluateTrustPolicy(r.policy, { federatedPrincipal: claims.principal, context }).allowed;
        const started = performance.now();
        const theirs =
          runUnsafeSimulation(
            {
              request: {
                principal: claims.principal,
                action: "sts:AssumeRoleWithWebIdentity",
                resource: { resource: r.roleArn, accountId: r.accountId },
                contextVariables: context,
              },
              identityPolicies: [],
              serviceControlPolicies: [],
              resourceControlPolicies: [],
              resourcePolicy: r.validated,
            },
            {},
          ) === "Allowed";
        simulateMs += performance.now() - started;
        const intent = intended(config, r.roleConfig.allow, r.providerArn, claims);
        cases++;
        if (ours) allowedCases++;
        const label = `${name} ${r.stack.name}/${r.roleConfig.name} sub=${sub} aud=${claims.aud} principal=${claims.principal}`;
        if (ours !== theirs) disagreements.push(`${label}: ours=${ours} iam-simulate=${theirs}`);
        if (ours && !intent) overGrants.push(label);
        if (!ours && intent) underGrants.push(label);

        // explain, on the same stacks (its principal is always the stack's provider), agrees too; a denial
        // names at least one differing part, and when only the audience differs, that audience is accepted.
        if (claims.principal === r.providerArn) {
          explained++;
          const [verdict] = explainAccess([r.stack], {
            sub,
            audiences: [claims.aud],
            role: r.roleConfig.name,
          }).roles;
          const differences = verdict.closest?.differences ?? [];
          if (verdict.allowed !== ours || (!ours && differences.length === 0)) {
            explainProblems.push(
              `${label}: explain allowed=${verdict.allowed}, ${differences.length} differences`,
            );
          }
          if (!ours && differences.length === 1 && differences[0].part === "audience") {
            const fixed = explainAccess([r.stack], {
              sub,
              audiences: [differences[0].expectedValues?.[0] ?? ""],
              role: r.roleConfig.name,
            });
            if (!fixed.allowed) explainProblems.push(`${label}: fixing the audience did not allow it`);
          }
          // A single differing part of the sub, set to what the closest grant names, must be enough.
          const only = differences.length === 1 ? differences[0] : undefined;
          const grant = verdict.closest?.grant;
          let repaired: string | undefined;
          if (only?.part === "refType") {
            repaired = `project_path:${claims.project}:ref_type:${only.expected}:ref:${claims.ref}`;
          } else if (only?.part === "ref" && !/[*?]/.test(only.expected)) {
            repaired = `project_path:${claims.project}:ref_type:${claims.refType}:ref:${only.expected}`;
          } else if (only?.part === "project" && grant?.scope === "project") {
            repaired = `project_path:${grant.path}:ref_type:${claims.refType}:ref:${claims.ref}`;
          } else if (only?.part === "project" && grant?.scope === "group") {
            repaired = `project_path:${grant.path}/fixed:ref_type:${claims.refType}:ref:${claims.ref}`;
          }
          if (repaired !== undefined) {
            repairs++;
            const fixed = explainAccess([r.stack], {
              sub: repaired,
              audiences: [claims.aud],
              role: r.roleConfig.name,
            });
            if (!fixed.allowed)
              explainProblems.push(`${label}: repairing the ${only?.part} did not allow it`);
          }
        }
      }
    }

    // THEN the two evaluators agree everywhere, and every grant is one the config intends (and vice versa)
    console.log(
      `cross-check: ${cases} cases, ${allowedCases} allowed, ${disagreements.length} disagreements, ` +
        `${overGrants.length} over-grants, ${underGrants.length} under-grants, ${explained} explained ` +
        `(${repairs} one-part repairs, ${explainProblems.length} problems); iam-simulate ${(simulateMs / cases).toFixed(3)} ms/case`,
    );
    expect(cases).toBeGreaterThanOrEqual(10_000);
    expect(disagreements.slice(0, 10)).toEqual([]);
    expect(overGrants.slice(0, 10)).toEqual([]);
    expect(underGrants.slice(0, 10)).toEqual([]);
    expect(explained).toBeGreaterThan(cases * 0.8);
    expect(explainProblems.slice(0, 10)).toEqual([]);
    expect(repairs).toBeGreaterThan(1000);
    // … and the sample is not vacuous: a fair share of the cases are allowed, and many are near misses.
    expect(allowedCases).toBeGreaterThan(cases * 0.05);
    expect(allowedCases).toBeLessThan(cases * 0.8);
  }, 60_000);

  test("the oracle's glob is what the config means: * spans /, ? is one character", () => {
    // GIVEN / WHEN / THEN a few fixed points, so the oracle cannot be trivially wrong
    expect(glob("release/*", "release/1.2/hotfix")).toBe(true);
    expect(glob("release/*", "release")).toBe(false);
    expect(glob("v?.*", "v1.2")).toBe(true);
    expect(glob("v?.*", "v12.2")).toBe(false);
    expect(glob("*", "")).toBe(true);
    expect(glob("main", "Main")).toBe(false);
  });
});
