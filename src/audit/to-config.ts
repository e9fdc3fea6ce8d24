/**
 * `--to-config`: an existing role's trust → the `gitlab-oidc.yaml` role and grants that express the same
 * access, or the reason it cannot be expressed. Never a guess: every conversion is validated by the
 * config loader and held, token by token, to the original policy's decisions through the evaluator
 * before it is printed.
 */
import { stringify } from "yaml";
import { parseConfig } from "../config/load";
import { roleAudiences, trustSettingsOf } from "../config/rules";
import type { Config, RoleConfig } from "../config/schema";
import type { GitLabLock } from "../gitlab/lock";
import { GITLAB_COM_ISSUER_HOST, isSuppliedClaim } from "../model/claims";
import { evaluateTrustPolicy, stringLike } from "../iam/evaluate";
import { hasWildcard } from "../model/subjects";
import { trustPolicyFor, type IamPolicyDocument } from "../model/trust-policy";
import type { GitLabTrust } from "./gitlab-trust";
import type { AuditedRole } from "./input";
import { evaluablePolicy, nullMap, statementLabel, type AuditStatement } from "./policy";
import { claimValues, conditionEntries, sampleTokens, subOf, tokenContext, type TokenSpec } from "./tokens";
import { ADOPTED_POLICY_KEYS, UNKNOWN_POLICIES, type AdoptedPolicyKey } from "../config/adoption";

/** A grant as the config writes it (before defaults). */
export interface GrantOut {
  project?: string;
  group?: string;
  branches?: string[];
  tags?: string[];
  anyRef?: true;
  protected?: boolean;
  pipelineSources?: string[];
  runnerEnvironment?: string;
}

export type Conversion =
  | {
      readonly ok: true;
      /** The role as it goes under `accounts[].roles` in gitlab-oidc.yaml. */
      readonly role: Record<string, unknown>;
      /** The audiences the trust requires (the config's gitlab.audience). */
      readonly audiences: readonly string[];
      /** Parts of the policy that matched nothing and were left out. */
      readonly notes: readonly string[];
      /** The IDs the trust pins, which the lock must hold for the config to pin the same. */
      readonly lock: LockEntries;
      /** gitlab.com: whether the trust pins IDs (false: the role says pinIds: false). */
      readonly pinIds?: boolean;
      /** The audience the conversion added to statements without an aud condition: a narrowing. */
      readonly addedAudience?: string;
      /** Policy keys the input did not list (get-role): written as `unknown`, refused by the synth. */
      readonly unknownPolicies: readonly AdoptedPolicyKey[];
    }
  | { readonly ok: false; readonly reason: string };

class Inexpressible extends Error {}

const WEB_IDENTITY = "sts:assumerolewithwebidentity";
/** GitLab's default `sub` for a project (or `<group>/*`), then a branch or tag pattern, or every ref. */
const SUBJECT = /^project_path:([^:*?]+?)(\/\*)?:(?:ref_type:(branch|tag):ref:([^:]+)|(?:ref_type:)?\*)$/;

/** One `sub` value → the grant it means (the inverse of the model's subjectsForGrant), or why it has none. */
export function grantForSubject(value: string): GrantOut {
  const match = SUBJECT.exec(value);
  if (!match) {
    throw new Inexpressible(
      /^project_path:[^:]*[*?]/.test(value) || !/^project_(path|id):/.test(value)
        ? `"${value}" matches projects the config cannot name (a wildcard in the project path, or no project at all); write the projects or groups you mean`
        : value.startsWith("project_id:")
          ? `"${value}" names the project by ID only; write project: <its path> with gitlab.subClaim starting with project_id, and npm run resolve puts the ID in the lock`
          : `"${value}" is not GitLab's default sub (project_path:…:ref_type:branch|tag:ref:…), which is what the config writes`,
    );
  }
  const [, path, group, refType, ref] = match;
  const who = group ? { group: path } : { project: path };
  if (refType === undefined) return { ...who, anyRef: true };
  return { ...who, ...(refType === "branch" ? { branches: [ref] } : { tags: [ref] }) };
}

interface StatementGrants {
  readonly audiences: string[];
  /** Set when the statement had no aud condition and the conversion requires this one. */
  readonly addedAudience?: string;
  readonly grants: GrantOut[];
  readonly notes: string[];
  /** IDs the statement pins (gitlab.com): the lock entries the config needs to pin the same. */
  readonly pins: { projects: Record<string, string>; groups: Record<string, string[]> } | undefined;
}

/** Claims (besides aud and sub) whose StringEquals a grant option writes. */
const GRANT_CLAIMS = ["ref_protected", "pipeline_source", "runner_environment", "project_id", "namespace_id"];

function statementGrants(
  statement: AuditStatement,
  trust: GitLabTrust,
  fallbackAudience: string,
  readSubject: (value: string) => GrantOut = grantForSubject,
): StatementGrants {
  const label = statementLabel(statement);
  const host = trust.issuerHost;
  if (statement.actions.some((action) => action.toLowerCase() !== WEB_IDENTITY)) {
    throw new Inexpressible(
      `${label} allows ${statement.actions.join(", ")}; the config grants sts:AssumeRoleWithWebIdentity only`,
    );
  }
  let audiences: string[] | undefined;
  let exact: string[] | undefined;
  let like: string[] | undefined;
  const claims: Record<string, string[]> = nullMap();
  for (const { operator, key, values } of conditionEntries(statement.conditions)) {
    if (values.some((value) => value.includes("${"))) {
      throw new Inexpressible(`${label} uses a policy variable in ${key}, which the config cannot write`);
    }
    const claim = key.startsWith(`${host}:`) ? key.slice(host.length + 1) : undefined;
    if (key === `${host}:aud` && operator === "StringEquals") audiences = values;
    else if (key === `${host}:sub` && operator === "StringEquals") exact = values;
    else if (key === `${host}:sub` && operator === "StringLike") like = values;
    else if (
      claim !== undefined &&
      GRANT_CLAIMS.includes(claim) &&
      isSuppliedClaim(host, claim) &&
      operator === "StringEquals" &&
      !values.some(hasWildcard)
    ) {
      claims[claim] = values;
    } else throw new Inexpressible(`${label}: the config cannot write ${operator} on ${key}`);
  }
  if (exact === undefined && like === undefined) {
    throw new Inexpressible(
      `${label} has no sub condition (${audiences === undefined ? "and no aud" : "aud only"}): any ${host} project can assume the role, and the config has no safe way to say that; write the projects or groups you mean`,
    );
  }
  const notes: string[] = [];
  // GitLab's tutorial trust checks sub only; the config always requires an audience. Adding one narrows
  // who gets in (tokens minted for other audiences stop working), which the output and summary say.
  const addedAudience = audiences === undefined ? fallbackAudience : undefined;
  if (addedAudience !== undefined) {
    notes.push(
      `NARROWED: ${label} has no ${host}:aud condition; the config requires aud "${addedAudience}", so jobs whose ID token requests another audience (today accepted) are refused. Check the provider's client IDs (aws iam get-open-id-connect-provider) and that the jobs' id_tokens request this aud`,
    );
  }
  const literalOnly = (exact ?? []).filter((value) => {
    if (!hasWildcard(value)) return true;
    notes.push(`${label}: StringEquals "${value}" never matches (wildcards are literal there); left out`);
    return false;
  });
  // Both operators in one statement are ANDed: only exact values the patterns also match get in.
  const subjects =
    exact !== undefined && like !== undefined
      ? literalOnly.filter((value) => like!.some((pattern) => stringLike(pattern, value)))
      : exact !== undefined
        ? literalOnly
        : like!;
  if (exact !== undefined && like !== undefined) {
    notes.push(
      `${label}: StringEquals and StringLike on ${host}:sub are ANDed; kept ${subjects.length ? subjects.join(", ") : "nothing"}`,
    );
  }
  // Trust v2 grant options: what the statement's other conditions say, per grant.
  const protectedRefs = claims.ref_protected !== undefined;
  if (protectedRefs && claims.ref_protected.join() !== "true") {
    throw new Inexpressible(
      `${label} requires ref_protected ${claims.ref_protected.join(" or ")}; the config writes "true" only`,
    );
  }
  if (claims.runner_environment !== undefined && claims.runner_environment.length !== 1) {
    throw new Inexpressible(
      `${label} allows several runner environments, which is every job: remove the condition`,
    );
  }
  const options: GrantOut = {
    // protected defaults to true; a trust without ref_protected says false on each grant.
    ...(protectedRefs ? {} : { protected: false }),
    ...(claims.pipeline_source ? { pipelineSources: [...claims.pipeline_source] } : {}),
    ...(claims.runner_environment ? { runnerEnvironment: claims.runner_environment[0] } : {}),
  };
  const grants = subjects.map((subject) => ({ ...readSubject(subject), ...options }));
  return {
    audiences: audiences ?? [fallbackAudience],
    ...(addedAudience !== undefined ? { addedAudience } : {}),
    grants,
    notes,
    pins: pinsOf(label, grants, claims),
  };
}

/**
 * The lock entries that make the config pin what the statement pins: one project's ID (project grants of
 * that one project) or one group's namespace IDs (group grants of that one group).
 */
function pinsOf(
  label: string,
  grants: readonly GrantOut[],
  claims: Record<string, string[]>,
): StatementGrants["pins"] {
  const projectIds = claims.project_id;
  const namespaceIds = claims.namespace_id;
  if (projectIds === undefined && namespaceIds === undefined) return undefined;
  const projects = [...new Set(grants.map((g) => g.project))];
  const groups = [...new Set(grants.map((g) => g.group))];
  if (
    projectIds !== undefined &&
    namespaceIds === undefined &&
    projectIds.length === 1 &&
    groups.join() === "" &&
    projects.length === 1
  ) {
    return { projects: { [projects[0]!]: projectIds[0] }, groups: {} };
  }
  if (
    namespaceIds !== undefined &&
    projectIds === undefined &&
    projects.join() === "" &&
    groups.length === 1
  ) {
    return { projects: {}, groups: { [groups[0]!]: [...namespaceIds] } };
  }
  throw new Inexpressible(
    `${label} pins IDs (${[...(projectIds ?? []), ...(namespaceIds ?? [])].join(", ")}) across grants the config pins one by one (a project's own ID, a group's namespace IDs); split the statement per project or group`,
  );
}

/** Grants with the same project (or group) and ref kind merge into one entry. */
function mergeGrants(grants: readonly GrantOut[]): GrantOut[] {
  const merged = new Map<string, GrantOut>();
  for (const grant of grants) {
    const key = JSON.stringify([
      grant.project ?? null,
      grant.group ?? null,
      grant.anyRef ?? false,
      grant.protected,
      grant.pipelineSources ?? null,
      grant.runnerEnvironment ?? null,
    ]);
    const existing = merged.get(key);
    if (!existing) {
      merged.set(key, {
        ...grant,
        ...(grant.branches ? { branches: [...grant.branches] } : {}),
        ...(grant.tags ? { tags: [...grant.tags] } : {}),
      });
      continue;
    }
    for (const kind of ["branches", "tags"] as const) {
      const refs = grant[kind];
      if (refs) existing[kind] = [...new Set([...(existing[kind] ?? []), ...refs])];
    }
  }
  // Keys in the order the config reference lists them.
  return [...merged.values()].map((grant) => ({
    ...(grant.project !== undefined ? { project: grant.project } : { group: grant.group }),
    ...(grant.branches ? { branches: grant.branches } : {}),
    ...(grant.tags ? { tags: grant.tags } : {}),
    ...(grant.anyRef ? { anyRef: true as const } : {}),
    ...(grant.protected !== undefined ? { protected: grant.protected } : {}),
    ...(grant.pipelineSources ? { pipelineSources: grant.pipelineSources } : {}),
    ...(grant.runnerEnvironment ? { runnerEnvironment: grant.runnerEnvironment } : {}),
  }));
}

/** The role's other settings, as far as the input shows them. */
function roleSettings(role: AuditedRole): Record<string, unknown> {
  const tags = Object.fromEntries(
    Object.entries(role.tags ?? {}).filter(([key]) => !key.toLowerCase().startsWith("aws:")),
  );
  // Always written: the role is adopted, and the config must say what it has (docs/adopting.md). Input
  // that does not list them (get-role) says `unknown`, which the synth refuses until someone fills it in.
  return {
    ...(role.description ? { description: role.description } : {}),
    managedPolicyArns: role.managedPolicyArns ? [...role.managedPolicyArns] : UNKNOWN_POLICIES,
    inlinePolicies: role.inlinePolicies ? { ...role.inlinePolicies } : UNKNOWN_POLICIES,
    ...(role.maxSessionDuration !== undefined ? { maxSessionDuration: role.maxSessionDuration } : {}),
    ...(role.permissionsBoundary ? { permissionsBoundary: role.permissionsBoundary } : {}),
    ...(role.path && role.path !== "/" ? { path: role.path } : {}),
    ...(Object.keys(tags).length > 0 ? { tags } : {}),
  };
}

/** The lock entries a conversion needs, as in-memory lock data (only the IDs the policies pin). */
export interface LockEntries {
  readonly projects: Record<string, string>;
  readonly groups: Record<string, string[]>;
}

/**
 * The in-memory lock that makes the config pin exactly the policy's IDs. A project's namespaceId is not
 * read for a project grant, so the placeholder never reaches a policy; the printed note asks for the real
 * lock from `npm run resolve`.
 */
export function lockOf(entries: LockEntries): GitLabLock {
  return {
    projects: Object.fromEntries(
      Object.entries(entries.projects).map(([path, id]) => [path, { id: Number(id), namespaceId: 1 }]),
    ),
    groups: Object.fromEntries(
      Object.entries(entries.groups).map(([path, ids]) => [
        path,
        { id: Number(ids[0]), descendantIds: ids.slice(1).map(Number) },
      ]),
    ),
  };
}

/** A one-role config around `role`, as the loader reads it: the same validation the synth applies. */
export function wrapRole(
  issuerHost: string,
  audiences: readonly string[],
  accountId: string,
  role: Record<string, unknown>,
) {
  return {
    gitlab: {
      url: `https://${issuerHost}`,
      audience: audiences.length === 1 ? audiences[0] : [...audiences],
    },
    accounts: [{ name: `account-${accountId}`, accountId, region: "us-east-1", adopt: true, roles: [role] }],
  };
}

export function accountIdOf(trust: GitLabTrust): string {
  return /:iam::(\d{12}):/.exec(trust.providerArn)?.[1] ?? "000000000000";
}

/** The trust policy the synth writes for a parsed role: the converted side of every comparison. */
export function synthesizedTrust(role: RoleConfig, config: Config, trust: GitLabTrust): IamPolicyDocument {
  return trustPolicyFor({
    ...trustSettingsOf(config.gitlab, config.lock, role),
    providerArn: trust.providerArn,
    audiences: roleAudiences(config.gitlab, role),
    allow: role.allow,
  });
}

/** The first sampled token on which the two policies decide differently, if any. */
export function firstDisagreement(
  original: IamPolicyDocument,
  converted: IamPolicyDocument,
  trust: GitLabTrust,
  narrowedTo?: readonly string[],
): { token: TokenSpec; original: boolean } | undefined {
  const conditions = [...original.Statement, ...converted.Statement].map((s) => s.Condition);
  for (const token of sampleTokens({ conditions, issuerHost: trust.issuerHost })) {
    const request = { federatedPrincipal: trust.providerArn, context: tokenContext(trust.issuerHost, token) };
    const before = evaluateTrustPolicy(original, request).allowed;
    const after = evaluateTrustPolicy(converted, request).allowed;
    // The one narrowing a conversion may make: refusing tokens for an audience it did not add. Whoever
    // the original lets in with the added audience, the conversion must let in too, and never more.
    const narrowed = narrowedTo !== undefined && before && !after && !narrowedTo.includes(token.aud);
    if (before !== after && !narrowed) return { token, original: before };
  }
  return undefined;
}

function checkStatementsExpressible(role: AuditedRole, trust: GitLabTrust): void {
  for (const statement of role.trustPolicy.statements) {
    const label = statementLabel(statement);
    if (statement.effect === "Deny")
      throw new Inexpressible(`${label} is a Deny; the config writes Allow statements only`);
    if (statement.negatedElements.length > 0)
      throw new Inexpressible(`${label} uses ${statement.negatedElements.join(" and ")}`);
    if (statement.principal.any)
      throw new Inexpressible(`${label} trusts Principal "*"; the config trusts the GitLab provider only`);
    if (
      !trust.statements.includes(statement) ||
      statement.principal.other.length > 0 ||
      statement.principal.federated.length > 1
    ) {
      const others = [
        ...statement.principal.federated.filter((p) => p !== trust.providerArn),
        ...statement.principal.other,
      ];
      throw new Inexpressible(
        `${label} also trusts ${others.join(", ")}; the config writes trust in the GitLab provider only`,
      );
    }
  }
}

/**
 * The audience to require where a statement checks none: the one the role's other statements require,
 * else `fallback` (the issuer's most common, from toConfig), else the issuer URL, which GitLab's
 * tutorial registers as the provider's client ID.
 */
function audienceToAdd(role: AuditedRole, trust: GitLabTrust, fallback: string | undefined): string {
  const own = claimValues(
    role.trustPolicy.statements.map((statement) => statement.conditions),
    trust.issuerHost,
    "aud",
  );
  return own[0] ?? fallback ?? `https://${trust.issuerHost}`;
}

export interface ConvertOptions {
  /** The audience to add to a trust without an aud condition (default: see audienceToAdd). */
  readonly fallbackAudience?: string;
  /**
   * How one `sub` value is read into a grant (default grantForSubject). Tests pass a wrong reading to
   * prove the self-check refuses a conversion that changes who gets in.
   */
  readonly readSubject?: (value: string) => GrantOut;
}

export function convertRole(role: AuditedRole, trust: GitLabTrust, options: ConvertOptions = {}): Conversion {
  try {
    checkStatementsExpressible(role, trust);
    const fallback = audienceToAdd(role, trust, options.fallbackAudience);
    const perStatement = role.trustPolicy.statements.map((statement) =>
      statementGrants(statement, trust, fallback, options.readSubject),
    );
    const addedAudience = perStatement.find((s) => s.addedAudience !== undefined)?.addedAudience;
    const audiences = [...new Set(perStatement[0].audiences)];
    if (perStatement.some((s) => [...new Set(s.audiences)].sort().join() !== [...audiences].sort().join())) {
      throw new Inexpressible(
        "its statements require different audiences; the config has one audience list per role",
      );
    }
    const grants = perStatement.flatMap((s) => s.grants);
    const notes = perStatement.flatMap((s) => s.notes);
    if (grants.length === 0) {
      throw new Inexpressible(
        `no GitLab job can assume it today${notes.length > 0 ? ` (${notes.join("; ")})` : ""}, so there is no grant to write; write the grants you mean by hand`,
      );
    }
    const pinned = perStatement.filter((s) => s.pins !== undefined);
    if (pinned.length > 0 && pinned.length < perStatement.length) {
      throw new Inexpressible(
        "some statements pin project or namespace IDs and others do not; the config pins all grants or none",
      );
    }
    const lock: LockEntries = {
      projects: Object.assign({}, ...pinned.map((s) => s.pins!.projects)),
      groups: Object.assign({}, ...pinned.map((s) => s.pins!.groups)),
    };
    // gitlab.com pins IDs by default; a trust without ID conditions says pinIds: false on that role
    // alone (never gitlab.pinIds, which would unpin every role of a config it is merged into).
    const pinIds = trust.issuerHost === GITLAB_COM_ISSUER_HOST ? pinned.length > 0 : undefined;
    const allow = mergeGrants(grants);
    const settings = roleSettings(role);
    const converted = {
      name: role.name,
      ...settings,
      ...(pinIds === false ? { pinIds: false } : {}),
      allow,
    };
    const unknownPolicies = ADOPTED_POLICY_KEYS.filter((key) => settings[key] === UNKNOWN_POLICIES);
    if (unknownPolicies.length > 0) {
      notes.push(
        `${unknownPolicies.join(" and ")}: unknown: the input (aws iam get-role) does not list them; the synth refuses the role until you write what the live role has (aws iam list-attached-role-policies / list-role-policies --role-name ${role.name}), or [] / {} on purpose`,
      );
    }

    const accountId = accountIdOf(trust);
    let parsed: Config;
    try {
      // Policies do not change who gets in: the check reads `unknown` as none.
      const checked = {
        ...converted,
        ...Object.fromEntries(unknownPolicies.map((key) => [key, key === "managedPolicyArns" ? [] : {}])),
      };
      parsed = parseConfig(
        stringify(wrapRole(trust.issuerHost, audiences, accountId, checked)),
        role.name,
        lockOf(lock),
      );
    } catch (error) {
      throw new Inexpressible(`the config refuses it: ${(error as Error).message.split("\n").join("; ")}`);
    }
    const disagreement = firstDisagreement(
      evaluablePolicy(role.trustPolicy, trust.providerArn),
      synthesizedTrust(parsed.accounts[0].roles[0], parsed, trust),
      trust,
      addedAudience !== undefined ? audiences : undefined,
    );
    if (disagreement) {
      throw new Inexpressible(
        `the closest config would change who gets in: a job with sub "${subOf(disagreement.token)}" and aud "${disagreement.token.aud}" is ${disagreement.original ? "allowed by the policy but not by the config" : "denied by the policy but allowed by the config"}`,
      );
    }
    return {
      ok: true,
      role: converted,
      audiences,
      notes,
      lock,
      ...(pinIds !== undefined ? { pinIds } : {}),
      ...(addedAudience !== undefined ? { addedAudience } : {}),
      unknownPolicies,
    };
  } catch (error) {
    if (error instanceof Inexpressible) return { ok: false, reason: error.message };
    throw error;
  }
}
