/**
 * `--to-config`: an existing role's trust → the `gitlab-oidc.yaml` role and grants that express the same
 * access, or the reason it cannot be expressed. Never a guess: every conversion is validated by the
 * config loader and held, token by token, to the original policy's decisions through the evaluator
 * before it is printed.
 */
import { stringify } from "yaml";
import { parseConfig } from "../config/load";
import { audiencesOf } from "../config/rules";
import type { RoleConfig } from "../config/schema";
import { evaluateTrustPolicy, stringLike } from "../iam/evaluate";
import { hasWildcard } from "../model/subjects";
import { trustPolicyFor, type IamPolicyDocument } from "../model/trust-policy";
import type { GitLabTrust } from "./gitlab-trust";
import type { AuditedRole } from "./input";
import { evaluablePolicy, statementLabel, type AuditStatement } from "./policy";
import { conditionEntries, sampleTokens, subOf, tokenContext, type TokenSpec } from "./tokens";

/** A grant as the config writes it (before defaults). */
export interface GrantOut {
  project?: string;
  group?: string;
  branches?: string[];
  tags?: string[];
  anyRef?: true;
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
  readonly subjects: string[];
  readonly notes: string[];
}

function statementGrants(statement: AuditStatement, trust: GitLabTrust): StatementGrants {
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
  for (const { operator, key, values } of conditionEntries(statement.conditions)) {
    if (values.some((value) => value.includes("${"))) {
      throw new Inexpressible(`${label} uses a policy variable in ${key}, which the config cannot write`);
    }
    if (key === `${host}:aud` && operator === "StringEquals") audiences = values;
    else if (key === `${host}:sub` && operator === "StringEquals") exact = values;
    else if (key === `${host}:sub` && operator === "StringLike") like = values;
    else throw new Inexpressible(`${label}: the config cannot write ${operator} on ${key}`);
  }
  if (audiences === undefined) {
    throw new Inexpressible(
      `${label} has no StringEquals on ${host}:aud; the config always requires one, which would narrow who gets in: add the audience to the policy first, or write the role by hand`,
    );
  }
  if (exact === undefined && like === undefined) {
    throw new Inexpressible(
      `${label} has no sub condition (aud only): any ${host} project can assume the role, and the config has no safe way to say that; write the projects or groups you mean`,
    );
  }
  const notes: string[] = [];
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
  return { audiences, subjects, notes };
}

/** Grants with the same project (or group) and ref kind merge into one entry. */
function mergeGrants(grants: readonly GrantOut[]): GrantOut[] {
  const merged = new Map<string, GrantOut>();
  for (const grant of grants) {
    const key = `${grant.project !== undefined ? "p" : "g"}:${grant.project ?? grant.group}:${grant.anyRef ? "any" : "refs"}`;
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
  return [...merged.values()];
}

/** The role's other settings, as far as the input shows them. */
function roleSettings(role: AuditedRole): Record<string, unknown> {
  const tags = Object.fromEntries(
    Object.entries(role.tags ?? {}).filter(([key]) => !key.toLowerCase().startsWith("aws:")),
  );
  return {
    ...(role.description ? { description: role.description } : {}),
    ...(role.managedPolicyArns?.length ? { managedPolicyArns: [...role.managedPolicyArns] } : {}),
    ...(role.inlinePolicies && Object.keys(role.inlinePolicies).length > 0
      ? { inlinePolicies: role.inlinePolicies }
      : {}),
    ...(role.maxSessionDuration !== undefined ? { maxSessionDuration: role.maxSessionDuration } : {}),
    ...(role.permissionsBoundary ? { permissionsBoundary: role.permissionsBoundary } : {}),
    ...(role.path && role.path !== "/" ? { path: role.path } : {}),
    ...(Object.keys(tags).length > 0 ? { tags } : {}),
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
export function synthesizedTrust(
  role: RoleConfig,
  gitlab: Parameters<typeof audiencesOf>[0],
  trust: GitLabTrust,
): IamPolicyDocument {
  return trustPolicyFor({
    providerArn: trust.providerArn,
    issuerHost: trust.issuerHost,
    audiences: audiencesOf(gitlab),
    allow: role.allow,
  });
}

/** The first sampled token on which the two policies decide differently, if any. */
export function firstDisagreement(
  original: IamPolicyDocument,
  converted: IamPolicyDocument,
  trust: GitLabTrust,
): { token: TokenSpec; original: boolean } | undefined {
  const conditions = [...original.Statement, ...converted.Statement].map((s) => s.Condition);
  for (const token of sampleTokens({ conditions, issuerHost: trust.issuerHost })) {
    const request = { federatedPrincipal: trust.providerArn, context: tokenContext(trust.issuerHost, token) };
    const before = evaluateTrustPolicy(original, request).allowed;
    if (before !== evaluateTrustPolicy(converted, request).allowed) return { token, original: before };
  }
  return undefined;
}

export function convertRole(role: AuditedRole, trust: GitLabTrust): Conversion {
  try {
    const statements = role.trustPolicy.statements;
    for (const statement of statements) {
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
    const perStatement = statements.map((statement) => statementGrants(statement, trust));
    const audiences = [...new Set(perStatement[0].audiences)];
    if (perStatement.some((s) => [...new Set(s.audiences)].sort().join() !== [...audiences].sort().join())) {
      throw new Inexpressible("its statements require different audiences; the config has one audience list");
    }
    const subjects = perStatement.flatMap((s) => s.subjects);
    const notes = perStatement.flatMap((s) => s.notes);
    if (subjects.length === 0) {
      throw new Inexpressible(
        `no GitLab job can assume it today${notes.length > 0 ? ` (${notes.join("; ")})` : ""}, so there is no grant to write; write the grants you mean by hand`,
      );
    }
    const allow = mergeGrants(subjects.map(grantForSubject));
    const converted = { name: role.name, ...roleSettings(role), allow };

    const accountId = accountIdOf(trust);
    let parsed;
    try {
      parsed = parseConfig(stringify(wrapRole(trust.issuerHost, audiences, accountId, converted)), role.name);
    } catch (error) {
      throw new Inexpressible(`the config refuses it: ${(error as Error).message.split("\n").join("; ")}`);
    }
    const disagreement = firstDisagreement(
      evaluablePolicy(role.trustPolicy, trust.providerArn),
      synthesizedTrust(parsed.accounts[0].roles[0], parsed.gitlab, trust),
      trust,
    );
    if (disagreement) {
      throw new Inexpressible(
        `the closest config would change who gets in: a job with sub "${subOf(disagreement.token)}" and aud "${disagreement.token.aud}" is ${disagreement.original ? "allowed by the policy but not by the config" : "denied by the policy but allowed by the config"}`,
      );
    }
    return { ok: true, role: converted, audiences, notes };
  } catch (error) {
    if (error instanceof Inexpressible) return { ok: false, reason: error.message };
    throw error;
  }
}
