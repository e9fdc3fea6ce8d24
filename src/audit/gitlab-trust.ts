/**
 * Which roles trust a GitLab OIDC provider, and through which statements: gitlab.com, an issuer whose
 * `sub` conditions use GitLab's `project_path:` / `project_id:` form, or one the caller names.
 */
import { GITLAB_COM_ISSUER_HOST } from "../model/claims";
import type { AuditedRole } from "./input";
import type { AuditStatement } from "./policy";
import { conditionEntries } from "./tokens";

export interface GitLabTrust {
  /** The provider URL without `https://`: the prefix of the condition keys. */
  readonly issuerHost: string;
  /** The provider's ARN as the policy names it (or as IAM would, for a `"*"` principal). */
  readonly providerArn: string;
  /** Statements that apply to tokens of this provider (its ARN, or any principal). */
  readonly statements: readonly AuditStatement[];
}

const PROVIDER_ARN = /^arn:(aws|aws-cn|aws-us-gov):iam::(\d{12}):oidc-provider\/(.+)$/;
const ROLE_ARN = /^arn:(aws|aws-cn|aws-us-gov):iam::(\d{12}):role\//;
const GITLAB_SUB = /^project_(path|id):/;

/** `https://gitlab.example.com/` → `gitlab.example.com`, as IAM names the provider and its keys. */
export function normalizeIssuer(issuer: string): string {
  return issuer
    .replace(/^https:\/\//i, "")
    .replace(/\/+$/, "")
    .toLowerCase();
}

/** Hosts named by the statement's condition keys (`gitlab.example.com:sub` → `gitlab.example.com`). */
function conditionHosts(statement: AuditStatement): string[] {
  return conditionEntries(statement.conditions)
    .map((entry) => /^(.+):(sub|aud)$/.exec(entry.key)?.[1])
    .filter((host): host is string => host !== undefined && !/^(aws|sts)$/.test(host));
}

function looksLikeGitLab(statements: readonly AuditStatement[], host: string): boolean {
  return statements.some((statement) =>
    conditionEntries(statement.conditions).some(
      (entry) => entry.key === `${host}:sub` && entry.values.some((value) => GITLAB_SUB.test(value)),
    ),
  );
}

/** The role's trust in a GitLab provider, or undefined when it trusts none. */
export function gitlabTrustOf(role: AuditedRole, issuers: readonly string[]): GitLabTrust | undefined {
  const named = new Set([GITLAB_COM_ISSUER_HOST, ...issuers.map(normalizeIssuer)]);
  const statements = role.trustPolicy.statements;
  const roleArn = role.arn ? ROLE_ARN.exec(role.arn) : null;
  const candidates = new Map<string, string>();
  for (const statement of statements) {
    for (const principal of statement.principal.federated) {
      const match = PROVIDER_ARN.exec(principal);
      if (match) candidates.set(match[3].toLowerCase(), principal);
    }
    if (statement.principal.any) {
      for (const host of conditionHosts(statement)) {
        if (!candidates.has(host)) {
          const [partition, account] = roleArn ? [roleArn[1], roleArn[2]] : ["aws", "000000000000"];
          candidates.set(host, `arn:${partition}:iam::${account}:oidc-provider/${host}`);
        }
      }
    }
  }
  for (const [host, providerArn] of candidates) {
    const applies = statements.filter(
      (statement) =>
        // A "*" principal includes every provider.
        statement.principal.any ||
        statement.principal.federated.some((p) => p.toLowerCase() === providerArn.toLowerCase()),
    );
    if (named.has(host) || looksLikeGitLab(applies, host)) {
      return { issuerHost: host, providerArn, statements: applies };
    }
  }
  return undefined;
}
