/**
 * Cross-check: the project's IAM evaluator (src/iam/evaluate.ts) against an independent one
 * (@cloud-copilot/iam-simulate, AGPL: test-only), and both against an "intended" oracle written
 * directly from the config's allow entries and the lock, over randomized (seeded, so reproducible)
 * GitLab tokens: project and namespace IDs (recycled paths: the same path with another ID; cross-paired
 * tokens: one grant's path with another grant's IDs), protected and unprotected refs, pipeline sources,
 * jobs with and without an environment, and audiences of other roles. The configs cover gitlab.com with
 * and without ID pinning, `project_id`-first subs, sub claims whose protection and environment parts
 * come before the ref or that have no ref at all, a self-managed and a custom issuer, and per-role
 * audiences. Tokens are formatted as GitLab formats `sub` and turned into the request context AWS
 * builds for the issuer (src/model/claims.ts).
 * The same cases also check `explain`: same verdict, a denial names a differing part, and setting a
 * single differing part to what the closest grant names turns the denial into an allow.
 */
import { createValidatedPolicy, validateTrustPolicy } from "@cloud-copilot/iam-policy";
import { runUnsafeSimulation } from "@cloud-copilot/iam-simulate";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig } from "../../src/config/load";
import type { AllowEntry, Config, RoleConfig } from "../../src/config/schema";
import { explainAccess } from "../../src/explain/explain";
import type { GitLabLock } from "../../src/gitlab/lock";
import { evaluateTrustPolicy } from "../../src/iam/evaluate";
import {
  DEFAULT_SUB_CLAIM,
  DEPLOYMENT_TIERS,
  formatSubClaim,
  requestContextFor,
  SUB_CLAIM_COMPONENTS,
  type SubClaimComponent,
  USER_ACCESS_LEVELS,
} from "../../src/model/claims";
import type { IamPolicyDocument } from "../../src/model/trust-policy";
import { synthesize } from "../../src/synth";
import { readSynthesizedStacks, type SynthesizedStack } from "../../src/terraform/synthesized-stacks";

const SEED = 20251125;
const CASES_PER_CONFIG = 1400;

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

// Configs built in code (JSON is YAML), each parsed with its lock and synthesized like gitlab-oidc.yaml.
const account = (name: string, accountId: string, roles: unknown[]) => ({
  name,
  accountId,
  region: "eu-west-1",
  roles,
});
const role = (name: string, allow: unknown[], extra: Record<string, unknown> = {}) => ({
  name,
  allow,
  ...extra,
});

const GITLAB_COM_LOCK: GitLabLock = {
  projects: {
    "acme/web": { id: 1001, namespaceId: 2001 },
    "acme/api": { id: 1002, namespaceId: 2001 },
  },
  groups: {
    "acme/platform": { id: 2002, descendantIds: [2003, 2004, 2005] },
    "acme/platform/team-a": { id: 2003, descendantIds: [2005] },
  },
};

const CONFIGS: Record<string, { raw: unknown; lock: GitLabLock }> = {
  gitlabCom: {
    raw: {
      gitlab: { url: "https://gitlab.com" },
      accounts: [
        account("prod", "111111111111", [
          role("deploy", [
            { project: "acme/web", branches: ["main", "release/*"] },
            { group: "acme/platform", tags: ["v*"], pipelineSources: ["push", "web"] },
          ]),
          // Two projects with the same kind of conditions and different refs: cross-pairing territory.
          role("pair", [
            { project: "acme/web", branches: ["main"], tags: ["v*"] },
            { project: "acme/api", branches: ["release/*", "main"] },
            { project: "acme/web", branches: ["hotfix/*"], protected: false },
          ]),
          role("plan", [
            { group: "acme/platform", branches: ["main"], tags: ["v?.*"] },
            { project: "acme/api", branches: ["main"], runnerEnvironment: "gitlab-hosted" },
          ]),
        ]),
        account("dev", "222222222222", [
          role("any", [{ project: "acme/web", anyRef: true, protected: false }], {
            audience: "sts.amazonaws.com",
          }),
          role("features", [
            { project: "acme/web", branches: ["*"], protected: false },
            { project: "acme/api", branches: ["main"] },
            { group: "acme/platform/team-a", anyRef: true },
          ]),
        ]),
      ],
    },
    lock: GITLAB_COM_LOCK,
  },
  gitlabComProjectIdSub: {
    raw: {
      gitlab: { url: "https://gitlab.com", subClaim: ["project_id", "ref_type", "ref"] },
      accounts: [
        account("ids", "666666666666", [
          role("deploy", [
            { project: "acme/web", branches: ["main"], tags: ["v*"] },
            { group: "acme/platform", branches: ["main"], protected: false },
            { project: "acme/api", branches: ["release/*"] },
          ]),
        ]),
      ],
    },
    lock: GITLAB_COM_LOCK,
  },
  selfManaged: {
    raw: {
      gitlab: {
        url: "https://gitlab.example.com/gitlab",
        audience: ["https://gitlab.example.com/gitlab", "sts.amazonaws.com"],
        subClaim: ["project_path", "ref_type", "ref", "ref_protected"],
      },
      accounts: [
        account("ops", "333333333333", [
          role("release", [
            { project: "ops/infra.tools", tags: ["release-?.?", "v1.*"] },
            { group: "ops", branches: ["main", "hotfix-*"] },
          ]),
          role("exact", [
            { project: "team.x/svc-a", branches: ["main", "develop"], tags: ["1.0.0"] },
            { project: "team.x/svc-b", branches: ["develop"], protected: false },
          ]),
        ]),
      ],
    },
    lock: { projects: {}, groups: {} },
  },
  selfManagedProjectIdSub: {
    raw: {
      gitlab: {
        url: "https://gitlab.example.com",
        subClaim: ["project_id", "ref_type", "ref", "ref_protected"],
      },
      accounts: [
        account("pid", "777777777777", [
          role("deploy", [
            { project: "acme/web", branches: ["main", "release/*"] },
            { project: "acme/api", tags: ["v*"], protected: false },
          ]),
        ]),
      ],
    },
    lock: GITLAB_COM_LOCK,
  },
  customIssuerWithEnvironments: {
    raw: {
      gitlab: {
        url: "https://git.acme.io",
        issuer: "https://oidc.acme.io/gitlab",
        audience: "aws",
        subClaim: SUB_CLAIM_COMPONENTS.filter((c) => c !== "project_id"), // all of them, the path first
      },
      accounts: [
        account("a", "444444444444", [
          role("deep", [
            { group: "acme/platform/team-a/sub", branches: ["feature/*/done", "main"] },
            { project: "acme/platform-evil/x", tags: ["v*"] },
            { group: "acme/platformx", branches: ["ma?n"], protected: false },
          ]),
        ]),
        account("b", "555555555555", [role("dots", [{ group: "a.b", branches: ["r.1", "*-stable"] }])]),
      ],
    },
    lock: { projects: {}, groups: {} },
  },
  // gitlab.com with ID pinning off and a sub whose protection and environment parts come before the
  // ref: ref_protected is checked through sub there, and per-role audiences differ from gitlab.audience.
  gitlabComOddSubUnpinned: {
    raw: {
      gitlab: {
        url: "https://gitlab.com",
        pinIds: false,
        audience: ["https://gitlab.com", "deploy-aud"],
        subClaim: [
          "project_path",
          "ref_protected",
          "deployment_tier",
          "ref_type",
          "ref",
          "environment_protected",
        ],
      },
      accounts: [
        account("odd", "888888888888", [
          role(
            "mixed",
            [
              { project: "acme/web", branches: ["main", "release/*"] },
              { project: "acme/web", branches: ["feature/*"], protected: false },
              { group: "acme/platform", tags: ["v*"], pipelineSources: ["push"] },
            ],
            { audience: "sts.amazonaws.com" },
          ),
          role("defaults", [
            { group: "acme", branches: ["main"], runnerEnvironment: "gitlab-hosted" },
            { project: "acme/api", anyRef: true, protected: false },
          ]),
        ]),
      ],
    },
    lock: GITLAB_COM_LOCK,
  },
  // project_id first with pinIds: false: group grants must still be held to the group's namespaces.
  gitlabComIdSubUnpinned: {
    raw: {
      gitlab: {
        url: "https://gitlab.com",
        pinIds: false,
        subClaim: ["project_id", "environment_protected", "ref_type", "ref", "ref_protected"],
      },
      accounts: [
        account("idu", "121212121212", [
          role(
            "groups",
            [
              { group: "acme/platform", branches: ["main"], protected: false },
              { group: "acme/platform/team-a", tags: ["v*"] },
              { project: "acme/web", branches: ["main"] },
            ],
            { audience: ["aws-a", "aws-b"] },
          ),
          role("one", [{ project: "acme/api", anyRef: true }]),
        ]),
      ],
    },
    lock: GITLAB_COM_LOCK,
  },
  // No ref in sub: only anyRef grants, protection through sub.
  selfManagedRefless: {
    raw: {
      gitlab: { url: "https://gitlab.example.com", subClaim: ["project_path", "ref_protected"] },
      accounts: [
        account("rl", "131313131313", [
          role("any", [
            { project: "acme/web", anyRef: true },
            { group: "acme/platform", anyRef: true, protected: false },
          ]),
        ]),
      ],
    },
    lock: { projects: {}, groups: {} },
  },
  // environments: grants (issue 24): only the sub forms with the environment parts they name, beside
  // unrestricted grants in the same role; path-first on gitlab.com (pinned) and ID-first, parts before the ref.
  gitlabComEnvironments: {
    raw: {
      gitlab: {
        url: "https://gitlab.com",
        subClaim: ["project_path", "ref_type", "ref", "environment_protected", "deployment_tier"],
      },
      limits: { trustPolicyLength: 4096 },
      accounts: [
        account("envs", "141414141414", [
          role("production", [
            {
              project: "acme/web",
              branches: ["main"],
              tags: ["v*"],
              environments: { tiers: ["production"] },
            },
            {
              group: "acme/platform",
              branches: ["main"],
              environments: { tiers: ["staging", "production"], protected: false },
            },
            { project: "acme/api", branches: ["main"] },
          ]),
          role("protected-any-tier", [{ project: "acme/api", anyRef: true, environments: {} }]),
        ]),
      ],
    },
    lock: GITLAB_COM_LOCK,
  },
  selfManagedIdFirstEnvironments: {
    raw: {
      gitlab: {
        url: "https://gitlab.example.com",
        subClaim: [
          "project_id",
          "deployment_tier",
          "ref_type",
          "ref",
          "ref_protected",
          "environment_protected",
        ],
      },
      accounts: [
        account("envi", "151515151515", [
          role("deploy", [
            {
              project: "acme/web",
              branches: ["main", "release/*"],
              environments: { tiers: ["production"], protected: true },
            },
            { project: "acme/api", tags: ["v*"], environments: { tiers: ["testing"], protected: false } },
            { project: "acme/web", branches: ["feature/*"], protected: false },
          ]),
        ]),
      ],
    },
    lock: GITLAB_COM_LOCK,
  },
  // Per-stack deployers that also require the user's project role (last, so the configs above keep their tokens).
  gitlabComAccessLevels: {
    raw: {
      gitlab: { url: "https://gitlab.com" },
      accounts: [
        account("levels", "141414141414", [
          role(
            "deployer",
            [
              { project: "acme/web", branches: ["main"], userAccessLevels: ["maintainer", "owner"] },
              {
                group: "acme/platform",
                tags: ["v*"],
                userAccessLevels: ["owner"],
                pipelineSources: ["push"],
              },
            ],
            { audience: "gitlab-oidc-aws-deploy-levels" },
          ),
          role("planner", [{ project: "acme/web", branches: ["main"] }]),
        ]),
      ],
    },
    lock: GITLAB_COM_LOCK,
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

/** A GitLab job's token, as structured claims (the oracle reads these; `sub` is formatted from them). */
interface Claims {
  readonly project: string;
  readonly projectId: string;
  readonly namespaceId: string;
  readonly refType: "branch" | "tag";
  readonly ref: string;
  readonly refProtected: boolean;
  readonly pipelineSource: string;
  readonly runnerEnvironment: string;
  readonly userAccessLevel: string;
  readonly environment?: { readonly protected: boolean; readonly tier: string };
  readonly aud: string;
  /** The provider ARN the request comes through. */
  readonly principal: string;
}

/** The token's claims as GitLab mints them, `sub` formatted with the projects' sub claim components. */
function tokenClaims(claims: Claims, subClaim: readonly SubClaimComponent[]): Record<string, string> {
  const values = {
    project_path: claims.project,
    project_id: claims.projectId,
    ref_type: claims.refType,
    ref: claims.ref,
    ref_protected: String(claims.refProtected),
    ...(claims.environment
      ? {
          environment_protected: String(claims.environment.protected),
          deployment_tier: claims.environment.tier,
        }
      : {}),
  };
  return {
    ...values,
    namespace_id: claims.namespaceId,
    pipeline_source: claims.pipelineSource,
    runner_environment: claims.runnerEnvironment,
    user_access_level: claims.userAccessLevel,
    sub: formatSubClaim(subClaim, values),
  };
}

/** What the config means, straight from the allow entries and the lock: no trust policy, no IAM semantics. */
function intended(config: Config, role: RoleConfig, providerArn: string, claims: Claims): boolean {
  const audience = role.audience ?? config.gitlab.audience ?? "sts.amazonaws.com";
  if (!(Array.isArray(audience) ? audience : [audience]).includes(claims.aud)) return false;
  if (claims.principal !== providerArn) return false;
  const lock = config.lock ?? { projects: {}, groups: {} };
  const issuer = config.gitlab.issuer ?? config.gitlab.url;
  const pinned = issuer === "https://gitlab.com" && config.gitlab.pinIds !== false;
  const byId = (config.gitlab.subClaim ?? DEFAULT_SUB_CLAIM)[0] === "project_id";
  return role.allow.some((entry) => {
    let projectOk: boolean;
    if (entry.project !== undefined) {
      const id = String(lock.projects[entry.project]?.id);
      projectOk = byId
        ? claims.projectId === id
        : claims.project === entry.project && (!pinned || claims.projectId === id);
    } else {
      const group = lock.groups[entry.group as string];
      const inGroup =
        group !== undefined && [group.id, ...group.descendantIds].map(String).includes(claims.namespaceId);
      const below =
        claims.project.startsWith(`${entry.group}/`) && claims.project.length > `${entry.group}/`.length;
      projectOk = byId ? inGroup : below && (!pinned || inGroup);
    }
    if (!projectOk) return false;
    if (entry.protected !== false && !claims.refProtected) return false;
    if (entry.pipelineSources && !entry.pipelineSources.includes(claims.pipelineSource as never))
      return false;
    if (entry.runnerEnvironment && entry.runnerEnvironment !== claims.runnerEnvironment) return false;
    if (entry.environments) {
      if (!claims.environment) return false;
      if (entry.environments.protected !== false && !claims.environment.protected) return false;
      if (
        entry.environments.tiers &&
        !(entry.environments.tiers as string[]).includes(claims.environment.tier)
      )
        return false;
    }
    if (entry.userAccessLevels && !entry.userAccessLevels.includes(claims.userAccessLevel as never))
      return false;
    if (entry.anyRef) return true;
    const patterns = claims.refType === "branch" ? entry.branches : entry.tags;
    return (patterns ?? []).some((pattern) => glob(pattern, claims.ref));
  });
}

/**
 * Tokens near and far from a role's grants: most start from one of its entries as GitLab would mint
 * them (the lock's IDs for the path) and then change one part: the path (sibling namespace, prefix,
 * deeper path), the IDs (a recycled path: same path, another ID; cross-pairing: another entry's IDs),
 * protection, pipeline source, runner, ref type, ref, audience or provider; the rest come from every
 * entry of the config.
 */
function claimGenerator(config: Config, random: () => number) {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
  // Access levels come from their own stream, so adding them left every other config's tokens as they were.
  const levelRandom = prng(SEED + 1);
  const pickLevel = <T>(items: readonly T[]): T => items[Math.floor(levelRandom() * items.length)];
  const lock = config.lock ?? { projects: {}, groups: {} };
  const allEntries = config.accounts.flatMap((a) => a.roles.flatMap((r) => r.allow));
  const segment = () => pick(["x", "web", "a", "sub", "team-a", "api.v2", "z_z", "evil", "platform"]);
  const freshId = () => String(50_000 + Math.floor(random() * 900_000));
  const under = (entry: AllowEntry): string =>
    entry.project ??
    (random() < 0.7
      ? `${entry.group}/${segment()}`
      : `${entry.group}/${segment()}/${segment()}/${segment()}`);
  /** The IDs GitLab would put in a token of a project that the entry names or covers. */
  const idsOf = (entry: AllowEntry): { projectId: string; namespaceId: string } => {
    if (entry.project !== undefined) {
      const locked = lock.projects[entry.project];
      return locked
        ? { projectId: String(locked.id), namespaceId: String(locked.namespaceId) }
        : { projectId: freshId(), namespaceId: freshId() };
    }
    const group = lock.groups[entry.group as string];
    return {
      projectId: freshId(),
      namespaceId: group ? String(pick([group.id, ...group.descendantIds])) : freshId(),
    };
  };
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
        // One character shorter, still a path GitLab could mint (no empty last segment, no trailing "/").
        return (base.slice(0, -1) || "a").replace(/\/+$/, "") || "a";
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
  // Every audience the config names: a token minted for one role must not open another.
  const configAudiences = [
    config.gitlab.audience ?? "sts.amazonaws.com",
    ...config.accounts.flatMap((a) => a.roles.map((r) => r.audience ?? [])),
  ].flat();
  const wrongAudience = () =>
    pick([
      ...configAudiences,
      `${config.gitlab.url}/`,
      "https://gitlab.co",
      "https://evil.example.com",
      "sts.amazonaws.com",
      "AWS",
      "",
    ]);

  return (roleConfig: RoleConfig, providerArns: readonly string[]): Claims => {
    const entry = random() < 0.8 ? pick(roleConfig.allow) : pick(allEntries);
    const audiences = [roleConfig.audience ?? config.gitlab.audience ?? "sts.amazonaws.com"].flat();
    let project = under(entry);
    let { projectId, namespaceId } = idsOf(entry);
    let { refType, ref } = refOf(entry);
    let refProtected = random() < 0.85;
    let pipelineSource = entry.pipelineSources ? pick(entry.pipelineSources) : "push";
    let runnerEnvironment = entry.runnerEnvironment ?? pick(["gitlab-hosted", "self-hosted"]);
    let userAccessLevel = entry.userAccessLevels
      ? pickLevel(entry.userAccessLevels)
      : pickLevel(USER_ACCESS_LEVELS);
    // Near an environments: grant, mostly its own environments, else another tier, unprotected or none.
    const environment = entry.environments
      ? random() < 0.15
        ? undefined
        : {
            protected: random() < 0.8,
            tier:
              random() < 0.75 ? pick(entry.environments.tiers ?? DEPLOYMENT_TIERS) : pick(DEPLOYMENT_TIERS),
          }
      : random() < 0.3
        ? { protected: random() < 0.5, tier: pick(["production", "staging", "other"]) }
        : undefined;
    let aud = pick(audiences);
    let principal = providerArns[0];
    switch (Math.floor(random() * 13)) {
      case 0:
      case 1:
        break; // unchanged: a hit when the entry is the role's
      case 2:
        project = mutateProject(entry.project ?? entry.group ?? "");
        break;
      case 3:
        // A recycled path: the same path, now another project (or another group's namespace).
        if (random() < 0.5) projectId = freshId();
        else namespaceId = freshId();
        break;
      case 4:
        // Cross-pairing: this entry's path with another entry's IDs.
        ({ projectId, namespaceId } = idsOf(random() < 0.6 ? pick(roleConfig.allow) : pick(allEntries)));
        break;
      case 5:
        refProtected = !refProtected;
        break;
      case 6:
        pipelineSource = pick(["merge_request_event", "api", "schedule", "web", "push"]);
        runnerEnvironment = pick(["gitlab-hosted", "self-hosted"]);
        userAccessLevel = pickLevel(USER_ACCESS_LEVELS);
        break;
      case 7:
        refType = refType === "branch" ? "tag" : "branch";
        break;
      case 8:
      case 9:
        ref = mutateRef(ref);
        break;
      case 10:
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
    return {
      project,
      projectId,
      namespaceId,
      refType,
      ref,
      refProtected,
      pipelineSource,
      runnerEnvironment,
      userAccessLevel,
      ...(environment ? { environment } : {}),
      aud,
      principal,
    };
  };
}

/** The claims with one differing part set to what explain's closest grant names; undefined if it cannot say. */
function repair(
  claims: Claims,
  difference: { part: string; expected: string; expectedValues?: readonly string[] },
  grant?: { scope: string; path: string },
): Claims | undefined {
  const claim = /:([a-z_]+) /.exec(difference.expected)?.[1];
  switch (difference.part) {
    case "refType":
      return { ...claims, refType: difference.expected as "branch" | "tag" };
    case "ref":
      return /[*?]/.test(difference.expected) ? undefined : { ...claims, ref: difference.expected };
    case "project":
      if (grant?.scope === "project") return { ...claims, project: grant.path };
      if (grant?.scope === "group") return { ...claims, project: `${grant.path}/fixed` };
      if (grant?.scope === "id" && grant.path !== "*") return { ...claims, projectId: grant.path };
      return undefined;
    case "subject": {
      if (difference.expected === "ref_protected:true") return { ...claims, refProtected: true };
      const [name, value] = difference.expected.split(":");
      if (value === undefined || value === "*") return undefined;
      if (name === "environment_protected")
        return {
          ...claims,
          environment: { tier: "other", ...claims.environment, protected: value === "true" },
        };
      if (name === "deployment_tier")
        return { ...claims, environment: { protected: true, ...claims.environment, tier: value } };
      return undefined;
    }
    case "condition": {
      const value = difference.expectedValues?.[0];
      if (value === undefined) return undefined;
      if (claim === "project_id") return { ...claims, projectId: value };
      if (claim === "namespace_id") return { ...claims, namespaceId: value };
      if (claim === "ref_protected") return { ...claims, refProtected: value === "true" };
      if (claim === "pipeline_source") return { ...claims, pipelineSource: value };
      if (claim === "runner_environment") return { ...claims, runnerEnvironment: value };
      if (claim === "user_access_level") return { ...claims, userAccessLevel: value };
      return undefined;
    }
    default:
      return undefined;
  }
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

  test("≥ 10,000 seeded random tokens: zero disagreements, zero grants outside the config", async () => {
    // GIVEN several configs with their locks, synthesized to HCL and read back as Terraform will deploy them
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
    const kinds = { recycledOrCrossPairedDenied: 0, unprotectedDenied: 0, environmentDenied: 0 };

    for (const [name, { raw, lock }] of Object.entries(CONFIGS)) {
      const config = parseConfig(JSON.stringify(raw), `${name}.yaml`, lock);
      const subClaim = config.gitlab.subClaim ?? DEFAULT_SUB_CLAIM;
      const outdir = join(outRoot, name);
      synthesize(config, { outdir, hcl: true });
      const stacks = await readSynthesizedStacks(outdir);
      const host = (config.gitlab.issuer ?? config.gitlab.url).replace(/^https:\/\//, "");
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

      const evaluate = (r: (typeof roles)[number], claims: Claims) => {
        const token = tokenClaims(claims, subClaim);
        const context = requestContextFor(host, token, claims.aud);
        const ours = evaluateTrustPolicy(r.policy, { federatedPrincipal: claims.principal, context }).allowed;
        return { token, context, ours };
      };
      const explainFor = (r: (typeof roles)[number], claims: Claims) => {
        const token = tokenClaims(claims, subClaim);
        return explainAccess([r.stack], {
          sub: token.sub,
          claims: token,
          audiences: [claims.aud],
          role: r.roleConfig.name,
        });
      };

      // WHEN each random token is evaluated three ways for a random role
      for (let i = 0; i < CASES_PER_CONFIG; i++) {
        const r = roles[Math.floor(random() * roles.length)];
        const claims = next(r.roleConfig, [r.providerArn, ...r.otherProviders]);
        const { token, context, ours } = evaluate(r, claims);
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
        const intent = intended(config, r.roleConfig, r.providerArn, claims);
        cases++;
        if (ours) allowedCases++;
        const label = `${name} ${r.stack.name}/${r.roleConfig.name} ${JSON.stringify(context)} principal=${claims.principal}`;
        if (ours !== theirs) disagreements.push(`${label}: ours=${ours} iam-simulate=${theirs}`);
        if (ours && !intent) overGrants.push(label);
        if (!ours && intent) underGrants.push(label);
        // Count the denials the new model exists for: the same token protected, or with the lock's IDs, passes.
        if (!ours && !claims.refProtected && evaluate(r, { ...claims, refProtected: true }).ours) {
          kinds.unprotectedDenied++;
        }
        // … and those environments: grants make: the same token deploying to a granted environment passes.
        if (!ours) {
          const granted = r.roleConfig.allow.flatMap((e) =>
            e.environments
              ? (e.environments.tiers ?? ["other"]).map((tier) => ({ protected: true, tier }))
              : [],
          );
          if (granted.some((environment) => evaluate(r, { ...claims, environment }).ours))
            kinds.environmentDenied++;
        }
        if (!ours) {
          for (const entry of r.roleConfig.allow) {
            const locked = entry.project !== undefined ? lock.projects[entry.project] : undefined;
            if (locked && claims.project === entry.project && String(locked.id) !== claims.projectId) {
              const fixed = evaluate(r, {
                ...claims,
                projectId: String(locked.id),
                namespaceId: String(locked.namespaceId),
              });
              if (fixed.ours) kinds.recycledOrCrossPairedDenied++;
            }
          }
        }

        // explain, on the same stacks (its principal is always the stack's provider), agrees too; a denial
        // names at least one differing part, and a single differing part set as the closest grant says allows.
        if (claims.principal === r.providerArn) {
          explained++;
          const [verdict] = explainFor(r, claims).roles;
          const differences = verdict.closest?.differences ?? [];
          if (verdict.allowed !== ours || (!ours && differences.length === 0)) {
            explainProblems.push(
              `${label}: explain allowed=${verdict.allowed}, ${differences.length} differences`,
            );
          }
          if (!ours && differences.length === 1 && differences[0].part === "audience") {
            const fixed = explainAccess([r.stack], {
              sub: token.sub,
              claims: token,
              audiences: [differences[0].expectedValues?.[0] ?? ""],
              role: r.roleConfig.name,
            });
            if (!fixed.allowed) explainProblems.push(`${label}: fixing the audience did not allow it`);
          }
          const only = differences.length === 1 ? differences[0] : undefined;
          const repaired = only ? repair(claims, only, verdict.closest?.grant) : undefined;
          if (repaired !== undefined) {
            repairs++;
            if (!explainFor(r, repaired).allowed)
              explainProblems.push(
                `${label}: repairing the ${only?.part} (${only?.message}) did not allow it`,
              );
          }
        }
      }
    }

    // THEN the two evaluators agree everywhere, and every grant is one the config intends (and vice versa)
    console.log(
      `cross-check: ${cases} cases, ${allowedCases} allowed, ${disagreements.length} disagreements, ` +
        `${overGrants.length} over-grants, ${underGrants.length} under-grants, ${explained} explained ` +
        `(${repairs} one-part repairs, ${explainProblems.length} problems); ` +
        `${kinds.recycledOrCrossPairedDenied} recycled/cross-paired path denials, ${kinds.unprotectedDenied} unprotected-ref denials, ${kinds.environmentDenied} environment denials; ` +
        `iam-simulate ${(simulateMs / cases).toFixed(3)} ms/case`,
    );
    expect(cases).toBeGreaterThanOrEqual(10_000);
    expect(disagreements.slice(0, 10)).toEqual([]);
    expect(overGrants.slice(0, 10)).toEqual([]);
    expect(underGrants.slice(0, 10)).toEqual([]);
    expect(explained).toBeGreaterThan(cases * 0.8);
    expect(explainProblems.slice(0, 10)).toEqual([]);
    expect(repairs).toBeGreaterThan(1000);
    // … and the sample is not vacuous: allowed cases, near misses, and the denials the IDs and protection make
    expect(allowedCases).toBeGreaterThan(cases * 0.05);
    expect(allowedCases).toBeLessThan(cases * 0.8);
    expect(kinds.recycledOrCrossPairedDenied).toBeGreaterThan(100);
    expect(kinds.unprotectedDenied).toBeGreaterThan(100);
    expect(kinds.environmentDenied).toBeGreaterThan(100);
  }, 120_000);

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
