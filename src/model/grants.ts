/**
 * One grant → what its trust policy statement must check: the `sub` values (formatted exactly as GitLab
 * builds `sub` for the configured components) and the other condition keys AWS supplies for the issuer
 * (project and namespace IDs from the lock, `ref_protected`, `pipeline_source`, `runner_environment`, `user_access_level`).
 *
 * A grant's sub values and its other conditions belong together: they must be ANDed in one statement, so
 * a token whose `sub` matches one grant and whose project ID belongs to another is not let in.
 * `grantIssues` says why a grant cannot be enforced (the config refuses it); `grantTrust` refuses to
 * build a grant that has issues, so nothing fails open.
 */
import type { AllowEntry } from "../config/schema";
import { lockedGroup, lockedProject, type GitLabLock } from "../gitlab/lock";
import {
  DEFAULT_SUB_CLAIM,
  ENVIRONMENT_SUB_CLAIM_COMPONENTS,
  formatSubClaim,
  isSuppliedClaim,
  type SubClaimComponent,
} from "./claims";

/** How the issuer's tokens can be checked: the settings that shape every grant of one provider. */
export interface TrustSettings {
  /** The provider URL without `https://`: the prefix of the condition keys. */
  readonly issuerHost: string;
  /**
   * The projects' `ci_id_token_sub_claim_components`.
   * @default ["project_path", "ref_type", "ref"]
   */
  readonly subClaim?: readonly SubClaimComponent[];
  /**
   * Pin project and namespace IDs (only where AWS supplies the keys: gitlab.com).
   * @default false
   */
  readonly pinIds?: boolean;
  /**
   * IDs by path (`gitlab-oidc.lock.yaml`).
   * @default no IDs
   */
  readonly lock?: GitLabLock;
}

/** What one grant requires of a token, besides `aud`. */
export interface GrantTrust {
  /** `sub` values (patterns where they contain `*` or `?`); any may match. */
  readonly subjects: readonly string[];
  /** Other condition keys, all compared with StringEquals; each key's values are ORed, the keys ANDed. */
  readonly conditions: Readonly<Record<string, readonly string[]>>;
}

/** Why a grant cannot be enforced as written: the grant key it concerns and what to do. */
export interface GrantIssue {
  readonly key?: keyof AllowEntry;
  readonly message: string;
}

function componentsOf(settings: TrustSettings): readonly SubClaimComponent[] {
  return settings.subClaim ?? DEFAULT_SUB_CLAIM;
}

const supplies = (settings: TrustSettings, claim: string) => isSuppliedClaim(settings.issuerHost, claim);

/** Is the project pinned by `<issuer>:project_id` (rather than by a `project_id`-first `sub`)? */
function pinsProjectKey(settings: TrustSettings): boolean {
  return (
    componentsOf(settings)[0] !== "project_id" && settings.pinIds === true && supplies(settings, "project_id")
  );
}

/** Is a group pinned by `<issuer>:namespace_id`? Always with a `project_id`-first sub (nothing else limits it). */
function pinsNamespaceKey(settings: TrustSettings): boolean {
  if (!supplies(settings, "namespace_id")) return false;
  return settings.pinIds === true || componentsOf(settings)[0] === "project_id";
}

/** Every reason the grant cannot be enforced for this issuer and sub claim; [] when it can. */
export function grantIssues(grant: AllowEntry, settings: TrustSettings): GrantIssue[] {
  const issues: GrantIssue[] = [];
  const components = componentsOf(settings);
  const host = settings.issuerHost;
  const onlyGitLabCom = (key: keyof AllowEntry, claim: string) =>
    issues.push({
      key,
      message:
        `AWS supplies ${claim} only for the gitlab.com provider; for ${host} it supplies aud and sub only, ` +
        `so a condition on ${host}:${claim} would find the key missing and deny every job: remove ${key}`,
    });

  if (
    grant.protected !== false &&
    !components.includes("ref_protected") &&
    !supplies(settings, "ref_protected")
  ) {
    issues.push({
      key: "protected",
      message:
        `protected refs cannot be checked on ${host}: AWS supplies only aud and sub for this issuer, and the ` +
        "sub claim has no ref_protected. Either add ref_protected to gitlab.subClaim (and to the projects' " +
        "ci_id_token_sub_claim_components), or write protected: false on purpose",
    });
  }
  if (!grant.anyRef && !(components.includes("ref_type") && components.includes("ref"))) {
    issues.push({
      key: grant.branches !== undefined ? "branches" : "tags",
      message:
        `gitlab.subClaim (${components.join(", ")}) has no ${components.includes("ref") ? "ref_type" : "ref"}, so AWS ` +
        "cannot tell which branch or tag a job runs for: add ref_type and ref to gitlab.subClaim, or grant anyRef: true",
    });
  }
  if (grant.pipelineSources !== undefined && !supplies(settings, "pipeline_source")) {
    onlyGitLabCom("pipelineSources", "pipeline_source");
  }
  if (grant.runnerEnvironment !== undefined && !supplies(settings, "runner_environment")) {
    onlyGitLabCom("runnerEnvironment", "runner_environment");
  }
  issues.push(...environmentIssues(grant, components));
  if (grant.userAccessLevels !== undefined && !supplies(settings, "user_access_level")) {
    onlyGitLabCom("userAccessLevels", "user_access_level");
  }
  const lock = settings.lock;
  const notLocked = (key: "project" | "group", path: string) =>
    issues.push({
      key,
      message: `${key} ${path} ${NOT_IN_LOCK} beside the config (gitlab-oidc.lock.yaml), and its ID is needed to pin it: run npm run resolve and commit the lock`,
    });
  if (grant.project !== undefined) {
    const needsId = components[0] === "project_id" || pinsProjectKey(settings);
    if (needsId && lockedProject(lock, grant.project) === undefined) notLocked("project", grant.project);
  }
  if (grant.group !== undefined) {
    if (components[0] === "project_id" && !supplies(settings, "namespace_id")) {
      issues.push({
        key: "group",
        message:
          `with a sub claim that starts with project_id, a group grant cannot be checked on ${host}: the sub has no ` +
          "path and AWS supplies no namespace_id for this issuer. Grant the group's projects one by one, or start gitlab.subClaim with project_path",
      });
    } else if (pinsNamespaceKey(settings) && lockedGroup(lock, grant.group) === undefined) {
      notLocked("group", grant.group);
    }
  }
  return issues;
}

/** The sub claim components an `environments:` option needs, and why. */
function environmentComponentsNeeded(
  environments: NonNullable<AllowEntry["environments"]>,
): { component: SubClaimComponent; why: string }[] {
  const needed: { component: SubClaimComponent; why: string }[] = [];
  if (environments.protected !== false) {
    needed.push({
      component: "environment_protected",
      why: "protected environments (environments.protected, default true)",
    });
  }
  if (environments.tiers !== undefined) {
    needed.push({ component: "deployment_tier", why: `the tiers ${environments.tiers.join(", ")}` });
  }
  return needed;
}

/**
 * AWS supplies no environment key for any issuer: `environments:` is checked through `sub` alone, so the
 * projects' sub must carry the parts it restricts (and at least one, to tell a job with an environment).
 */
function environmentIssues(grant: AllowEntry, components: readonly SubClaimComponent[]): GrantIssue[] {
  if (grant.environments === undefined) return [];
  const fix = (missing: readonly string[]) =>
    `add ${missing.join(" and ")} to gitlab.subClaim, and to the granted projects' ci_id_token_sub_claim_components ` +
    "(GitLab 18.7+; npm run resolve reports projects that differ, --apply-sub-claim sets them)";
  const needed = environmentComponentsNeeded(grant.environments);
  const missing = needed.filter(({ component }) => !components.includes(component));
  if (missing.length > 0) {
    return [
      {
        key: "environments",
        message:
          `environments needs ${missing.map((m) => `${m.component} for ${m.why}`).join(" and ")} in the sub claim: ` +
          `AWS supplies no environment condition key, so sub is the only place to check it. ${fix(missing.map((m) => m.component))}` +
          (missing.some((m) => m.component === "environment_protected")
            ? "; or write environments.protected: false on purpose"
            : ""),
      },
    ];
  }
  if (!components.some((c) => ENVIRONMENT_SUB_CLAIM_COMPONENTS.includes(c))) {
    return [
      {
        key: "environments",
        message:
          `environments (protected: false, no tiers) means "any environment", which only the environment parts of sub can tell: ` +
          fix(["environment_protected or deployment_tier"]),
      },
    ];
  }
  return [];
}

/** Marks the problem of a path the lock lacks (reported once per path, however many grants name it). */
export const NOT_IN_LOCK = "is not in the lock file";

/** The values of each sub component for one ref of a grant (`*` where any value is allowed). */
type ComponentValues = Partial<Record<SubClaimComponent, string>>;

/**
 * The environment parts of a grant's `sub` values. GitLab leaves environment_protected and
 * deployment_tier out for a job without an environment: a grant without `environments:` allows both
 * forms; one with it only the form with the environment parts, holding the values it names (`*` for a
 * part it does not restrict).
 */
function environmentValues(grant: AllowEntry, components: readonly SubClaimComponent[]): ComponentValues[] {
  const usesEnvironment = components.some((c) => ENVIRONMENT_SUB_CLAIM_COMPONENTS.includes(c));
  if (!usesEnvironment) return [{}];
  const anyEnvironment: ComponentValues = Object.fromEntries(
    ENVIRONMENT_SUB_CLAIM_COMPONENTS.map((c) => [c, "*"]),
  );
  const environments = grant.environments;
  if (environments === undefined) return [{}, anyEnvironment];
  const protection: ComponentValues =
    environments.protected !== false ? { ...anyEnvironment, environment_protected: "true" } : anyEnvironment;
  return (environments.tiers ?? ["*"]).map((tier) => ({ ...protection, deployment_tier: tier }));
}

/** What a grant requires; throws when grantIssues finds a problem (the config rules refuse those first). */
export function grantTrust(grant: AllowEntry, settings: TrustSettings): GrantTrust {
  const issues = grantIssues(grant, settings);
  if (issues.length > 0)
    throw new Error(`cannot enforce the grant: ${issues.map((i) => i.message).join("; ")}`);
  const components = componentsOf(settings);
  const host = settings.issuerHost;
  const projectEntry = grant.project !== undefined ? lockedProject(settings.lock, grant.project) : undefined;
  const groupEntry = grant.group !== undefined ? lockedGroup(settings.lock, grant.group) : undefined;

  const project: ComponentValues =
    grant.project !== undefined
      ? { project_path: grant.project, ...(projectEntry ? { project_id: String(projectEntry.id) } : {}) }
      : { project_path: `${grant.group}/*`, project_id: "*" };
  const refs: ComponentValues[] = grant.anyRef
    ? [{ ref_type: "*", ref: "*" }]
    : [
        ...(grant.branches ?? []).map((ref) => ({ ref_type: "branch", ref })),
        ...(grant.tags ?? []).map((ref) => ({ ref_type: "tag", ref })),
      ];
  const isProtected = grant.protected !== false;
  const refProtected: ComponentValues[] = components.includes("ref_protected")
    ? (isProtected ? ["true"] : ["true", "false"]).map((value) => ({ ref_protected: value }))
    : [{}];
  const environment = environmentValues(grant, components);

  const subjects = refs.flatMap((ref) =>
    refProtected.flatMap((protection) =>
      environment.map((env) => formatSubClaim(components, { ...project, ...ref, ...protection, ...env })),
    ),
  );

  const conditions: Record<string, string[]> = {};
  if (projectEntry && pinsProjectKey(settings)) conditions[`${host}:project_id`] = [String(projectEntry.id)];
  if (groupEntry && pinsNamespaceKey(settings)) {
    conditions[`${host}:namespace_id`] = [
      groupEntry.id,
      ...[...groupEntry.descendantIds].sort((a, b) => a - b),
    ].map(String);
  }
  if (isProtected && !components.includes("ref_protected")) conditions[`${host}:ref_protected`] = ["true"];
  if (grant.pipelineSources) conditions[`${host}:pipeline_source`] = [...new Set(grant.pipelineSources)];
  if (grant.runnerEnvironment) conditions[`${host}:runner_environment`] = [grant.runnerEnvironment];
  if (grant.userAccessLevels) conditions[`${host}:user_access_level`] = [...new Set(grant.userAccessLevels)];
  return { subjects: [...new Set(subjects)], conditions };
}
