/**
 * Findings about one role's GitLab trust. The codes and severities are a contract (scripts match on
 * them; see docs/adopting.md). Whether outsiders get in is decided by building their tokens from the
 * model (tokens.ts) and asking the evaluator, not by reading patterns; only the shape checks (an
 * operator on the wrong kind of key) read the policy text.
 */
import { isSuppliedClaim, GITLAB_COM_ISSUER_HOST, suppliedClaimKeys } from "../model/claims";
import { hasWildcard } from "../model/subjects";
import { evaluateTrustPolicy, stringLike } from "../iam/evaluate";
import type { IamPolicyDocument } from "../model/trust-policy";
import type { GitLabTrust } from "./gitlab-trust";
import type { AuditedRole } from "./input";
import { evaluablePolicy, statementLabel, type AuditStatement } from "./policy";
import {
  claimValues,
  conditionEntries,
  instantiate,
  isNegated,
  isProjectPath,
  nearbyRefs,
  OUTSIDER,
  parseSubPattern,
  sampleTokens,
  subComponentsOf,
  tokenContext,
  type TokenSpec,
} from "./tokens";

export type Severity = "critical" | "error" | "warning";

/** Every code and its severity. Scripts rely on both: add codes, never change one. */
export const FINDING_SEVERITIES = {
  "aud-only": "critical",
  "any-project": "critical",
  "namespace-escape": "critical",
  "principal-wildcard": "critical",
  "wildcard-under-string-equals": "error",
  "exact-and-wildcard-anded": "error",
  "unsupported-claim": "error",
  "for-all-values-single-valued": "error",
  "policy-variable": "error",
  "not-evaluated": "error",
  "no-id-pinning": "warning",
  "unprotected-refs": "warning",
  "any-ref": "warning",
  "missing-aud": "warning",
  "if-exists-condition": "warning",
  "negated-condition": "warning",
} as const satisfies Record<string, Severity>;

export type FindingCode = keyof typeof FINDING_SEVERITIES;

export interface Finding {
  readonly code: FindingCode;
  readonly severity: Severity;
  readonly message: string;
}

const WEB_IDENTITY = "sts:assumerolewithwebidentity";
/** Claims that say which project a token is from; the rest (ref, protection, user, …) a project owner chooses. */
const IDENTITY_CLAIMS = new Set(["sub", "project_id", "namespace_id"]);

function finding(code: FindingCode, message: string): Finding {
  return { code, severity: FINDING_SEVERITIES[code], message };
}

function allowsWebIdentity(statement: AuditStatement): boolean {
  return (
    statement.effect === "Allow" &&
    statement.actions.some((action) => stringLike(action.toLowerCase(), WEB_IDENTITY))
  );
}

function baseOperator(operator: string): string {
  return operator.replace(/^(ForAllValues|ForAnyValue):/, "").replace(/IfExists$/, "");
}

function isPositive(operator: string): boolean {
  return !isNegated(operator) && baseOperator(operator) !== "Null";
}

function claimOf(key: string, issuerHost: string): string | undefined {
  return key.startsWith(`${issuerHost}:`) ? key.slice(issuerHost.length + 1) : undefined;
}

/** Claim values a project owner can choose to satisfy the statement's other conditions. */
function chosenClaims(statement: AuditStatement, issuerHost: string): Record<string, string> {
  const claims: Record<string, string> = Object.create(null);
  for (const { operator, key, values } of conditionEntries(statement.conditions)) {
    const claim = claimOf(key, issuerHost);
    if (claim === undefined || IDENTITY_CLAIMS.has(claim) || claim === "aud") continue;
    claims[claim] = isPositive(operator) ? instantiate(values[0] ?? "", "x") : "audit-probe-other";
  }
  return claims;
}

/**
 * Tokens the owner of `project` could present to pass the statement: each audience it accepts, refs
 * and ref types its patterns mention, the `sub` formats it uses, and the other claims set to satisfy it.
 */
function ownerTokens(
  statement: AuditStatement,
  issuerHost: string,
  project: Pick<TokenSpec, "projectPath" | "projectId" | "namespaceId">,
  refs?: readonly string[],
): TokenSpec[] {
  const conditions = [statement.conditions];
  const auds = claimValues(conditions, issuerHost, "aud").map((v) => instantiate(v, "x"));
  const patterns = claimValues(conditions, issuerHost, "sub").map(parseSubPattern);
  const formats = [...new Map(patterns.map(subComponentsOf).map((c) => [c.join(), c])).values()];
  const claims = chosenClaims(statement, issuerHost);
  const refNames =
    refs ?? nearbyRefs(patterns.flatMap((p) => (p.values.ref !== undefined ? [p.values.ref] : [])));
  const protectedValue = claims.ref_protected === "false" ? "false" : "true";
  return (auds.length > 0 ? auds : ["https://audit-probe.invalid"]).flatMap((aud) =>
    (formats.length > 0 ? formats : [subComponentsOf(parseSubPattern(""))]).flatMap((subComponents) =>
      (["branch", "tag"] as const).flatMap((refType) =>
        refNames.map(
          (ref): TokenSpec => ({
            ...project,
            refType,
            ref,
            refProtected: protectedValue,
            aud,
            subComponents,
            claims,
          }),
        ),
      ),
    ),
  );
}

interface Judge {
  /** The first token that passes the statement (and the whole policy), if any. */
  firstPassing(statement: AuditStatement, tokens: readonly TokenSpec[]): TokenSpec | undefined;
}

function judge(document: IamPolicyDocument, trust: GitLabTrust): Judge {
  return {
    firstPassing(statement, tokens) {
      return tokens.find((token) => {
        const evaluation = evaluateTrustPolicy(document, {
          federatedPrincipal: trust.providerArn,
          context: tokenContext(trust.issuerHost, token),
        });
        return evaluation.allowed && evaluation.statements[statement.number - 1].matched;
      });
    },
  };
}

/** Paths (or IDs) outside the one a wildcarded pattern names, that the pattern still matches. */
function escapeProbes(
  statement: AuditStatement,
  issuerHost: string,
): {
  project: Pick<TokenSpec, "projectPath" | "projectId" | "namespaceId">;
  pattern: string;
  shown: string;
}[] {
  const likePatterns = conditionEntries(statement.conditions)
    .filter(
      (e) =>
        e.key === `${issuerHost}:sub` && baseOperator(e.operator) === "StringLike" && !isNegated(e.operator),
    )
    .flatMap((e) => e.values);
  return likePatterns.flatMap((value) => {
    const pattern = parseSubPattern(value);
    if (pattern.lead !== "") return [];
    const path = pattern.values.project_path;
    const id = pattern.values.project_id;
    const region = path ?? id;
    if (region === undefined || !hasWildcard(region)) return [];
    const literal = region.split(/[*?]/)[0];
    if (literal === "" || literal.endsWith("/")) return [];
    if (path !== undefined) {
      const escaped = instantiate(path.replace(/[*?]/, "-audit-escape"), "x");
      return [escaped, `${escaped}/project`]
        .filter((probe) => isProjectPath(probe) && probe !== literal && !probe.startsWith(`${literal}/`))
        .map((probe) => ({
          project: { ...OUTSIDER, projectPath: probe },
          pattern: value,
          shown: probe,
        }));
    }
    const probe = instantiate(region, "9");
    return probe === literal
      ? []
      : [{ project: { ...OUTSIDER, projectId: probe }, pattern: value, shown: `project ${probe}` }];
  });
}

type ProjectClaims = Pick<TokenSpec, "projectPath" | "projectId" | "namespaceId">;

/**
 * Projects the statement means to let in, as concrete tokens' project claims, each with how findings
 * name it: the path as the policy writes it (`acme/*`), never the probe's made-up instance (`acme/x`).
 */
function intendedProjects(
  statement: AuditStatement,
  issuerHost: string,
): { project: ProjectClaims; shown: string }[] {
  const conditions = [statement.conditions];
  const projectId = instantiate(
    claimValues(conditions, issuerHost, "project_id")[0] ?? OUTSIDER.projectId,
    "9",
  );
  const namespaceId = instantiate(
    claimValues(conditions, issuerHost, "namespace_id")[0] ?? OUTSIDER.namespaceId,
    "9",
  );
  const patterns = claimValues(conditions, issuerHost, "sub").map(parseSubPattern);
  if (patterns.length === 0) {
    return [
      {
        project: { projectPath: "audit-probe/pinned", projectId, namespaceId },
        shown: `project ${projectId}`,
      },
    ];
  }
  return patterns.flatMap((pattern) => {
    const written = pattern.values.project_path;
    const path = written !== undefined ? instantiate(written, "x") : undefined;
    const id =
      pattern.values.project_id !== undefined ? instantiate(pattern.values.project_id, "9") : undefined;
    if (path !== undefined && !isProjectPath(path)) return [];
    const shown =
      written === undefined
        ? `project ${pattern.values.project_id ?? projectId}`
        : hasWildcard(written)
          ? `every project matching ${written}`
          : written;
    return [
      {
        project: { projectPath: path ?? "audit-probe/by-id", projectId: id ?? projectId, namespaceId },
        shown,
      },
    ];
  });
}

const ANY_BRANCH = "audit-probe/any-branch";
const ANY_TAG = "audit-probe-any-tag";

function shapeFindings(statement: AuditStatement, trust: GitLabTrust): Finding[] {
  const findings: Finding[] = [];
  const host = trust.issuerHost;
  const label = statementLabel(statement);
  const entries = conditionEntries(statement.conditions);
  const supplied = suppliedClaimKeys(host).join(", ");

  if (statement.principal.any) {
    findings.push(
      finding(
        "principal-wildcard",
        `${label}: Principal "*" lets any identity provider of the account (and for sts:AssumeRole, any AWS account) call; name the GitLab provider ${trust.providerArn}`,
      ),
    );
  }
  for (const { operator, key, values } of entries) {
    const claim = claimOf(key, host);
    const base = baseOperator(operator);
    if (values.some((value) => value.includes("${"))) {
      findings.push(
        finding(
          "policy-variable",
          `${label}: ${operator} on ${key} uses a policy variable (${values.find((v) => v.includes("${"))}); the audit cannot evaluate it, review it by hand`,
        ),
      );
    }
    if (/^StringEquals(IgnoreCase)?$/.test(base) && claim !== undefined) {
      const literal = values.filter(hasWildcard);
      if (literal.length > 0) {
        findings.push(
          finding(
            "wildcard-under-string-equals",
            `${label}: ${operator} compares ${key} "${literal[0]}" literally (* and ? are wildcards only under StringLike), so it never matches a GitLab job; use StringLike`,
          ),
        );
      }
    }
    if (operator.startsWith("ForAllValues:") && !key.endsWith(":amr")) {
      findings.push(
        finding(
          "for-all-values-single-valued",
          `${label}: ForAllValues: on the single-valued key ${key} passes whenever the key is missing${claim !== undefined && !isSuppliedClaim(host, claim) ? ` (and AWS never supplies ${key}, so it never restricts anything)` : ""}; use ${operator.slice("ForAllValues:".length)}`,
        ),
      );
    }
    if (claim !== undefined && operator.endsWith("IfExists")) {
      findings.push(
        finding(
          "if-exists-condition",
          isSuppliedClaim(host, claim)
            ? `${label}: ${operator} on ${key}: AWS always supplies it, so IfExists adds nothing and passes if the key is ever missing; use ${operator.replace(/IfExists$/, "")}`
            : `${label}: ${operator} on ${key}: AWS does not supply it for ${host} (only ${supplied}), so this condition is always skipped`,
        ),
      );
    }
    if (claim !== undefined && isNegated(operator)) {
      findings.push(
        finding(
          "negated-condition",
          `${label}: ${operator} on ${key} in an Allow lets in every value it does not list; allow what you mean with StringEquals/StringLike`,
        ),
      );
    }
    const skippedWhenMissing =
      operator.endsWith("IfExists") || operator.startsWith("ForAllValues:") || !isPositive(operator);
    if (!skippedWhenMissing && !/^(aws|sts)$/.test(key.split(":")[0])) {
      if (claim !== undefined && !isSuppliedClaim(host, claim)) {
        findings.push(
          finding(
            "unsupported-claim",
            `${label}: ${operator} on ${key}, but AWS supplies only ${supplied} for ${host}${host === GITLAB_COM_ISSUER_HOST ? "" : " (extra claims only for gitlab.com)"}: the key is missing, so this statement denies every job`,
          ),
        );
      } else if (claim === undefined && key.includes(":")) {
        findings.push(
          finding(
            "unsupported-claim",
            `${label}: ${operator} on ${key}, a key tokens of ${host} never carry: this statement denies every job`,
          ),
        );
      }
    }
  }
  const subEntries = entries.filter((e) => e.key === `${host}:sub` && isPositive(e.operator));
  const exact = subEntries
    .filter((e) => /^StringEquals/.test(baseOperator(e.operator)))
    .flatMap((e) => e.values);
  const like = subEntries.filter((e) => baseOperator(e.operator) === "StringLike").flatMap((e) => e.values);
  if (exact.length > 0 && like.length > 0) {
    const both = exact.filter(
      (value) => !hasWildcard(value) && like.some((pattern) => stringLike(pattern, value)),
    );
    findings.push(
      finding(
        "exact-and-wildcard-anded",
        both.length === 0
          ? `${label}: StringEquals and StringLike on ${host}:sub in one statement must both match, and no value satisfies both: nothing matches; put them in separate statements`
          : `${label}: StringEquals and StringLike on ${host}:sub in one statement must both match: only ${both.join(", ")} can pass; put them in separate statements`,
      ),
    );
  }
  if (claimValues([statement.conditions], host, "aud").length === 0) {
    findings.push(
      finding(
        "missing-aud",
        `${label}: no condition on ${host}:aud, so tokens minted for any audience (another cloud, a Vault) are accepted; require the audience your jobs request`,
      ),
    );
  }
  return findings;
}

function accessFindings(statement: AuditStatement, trust: GitLabTrust, verdict: Judge): Finding[] {
  const host = trust.issuerHost;
  const label = statementLabel(statement);
  const hasSub = conditionEntries(statement.conditions).some((e) => e.key === `${host}:sub`);
  const outsider = verdict.firstPassing(statement, ownerTokens(statement, host, OUTSIDER));
  if (outsider) {
    return [
      hasSub
        ? finding(
            "any-project",
            `${label}: the sub condition lets in any project: a job of ${OUTSIDER.projectPath} (any ${host} project) gets the role`,
          )
        : finding(
            "aud-only",
            `${label}: no sub condition restricts who assumes the role: any ${host} project that requests aud "${outsider.aud}" gets it`,
          ),
    ];
  }
  const findings: Finding[] = [];
  for (const probe of escapeProbes(statement, host)) {
    if (verdict.firstPassing(statement, ownerTokens(statement, host, probe.project))) {
      findings.push(
        finding(
          "namespace-escape",
          `${label}: "${probe.pattern}" also matches ${probe.shown}: a wildcard without "/" before it lets in sibling namespaces; end the group with "/*"`,
        ),
      );
      break;
    }
  }
  for (const { project, shown } of intendedProjects(statement, host)) {
    const branch = verdict.firstPassing(
      statement,
      ownerTokens(statement, host, project, [ANY_BRANCH]).filter((t) => t.refType === "branch"),
    );
    const tag = verdict.firstPassing(
      statement,
      ownerTokens(statement, host, project, [ANY_TAG]).filter((t) => t.refType === "tag"),
    );
    if (branch || tag) {
      const what = branch && tag ? "every branch and tag" : branch ? "every branch" : "every tag";
      findings.push(
        finding(
          "any-ref",
          `${label}: ${what} of ${shown} gets the role, including refs any developer can push; name the branches or tags`,
        ),
      );
      break;
    }
  }
  return findings;
}

/** gitlab.com only: would a job still get in if its ref were unprotected, or its project recreated? */
function gitlabComFindings(
  statements: readonly AuditStatement[],
  trust: GitLabTrust,
  verdict: Judge,
): Finding[] {
  const unprotected: string[] = [];
  const unpinned: string[] = [];
  for (const statement of statements) {
    const allowed = verdict.firstPassing(
      statement,
      sampleTokens({ conditions: [statement.conditions], issuerHost: trust.issuerHost, limit: 4000 }).filter(
        (token) => token.refProtected === "true",
      ),
    );
    if (!allowed) continue;
    const label = statementLabel(statement);
    if (verdict.firstPassing(statement, [{ ...allowed, refProtected: "false" }])) unprotected.push(label);
    const recreated = { ...allowed, projectId: "900000003", namespaceId: "900000004" };
    if (verdict.firstPassing(statement, [recreated])) unpinned.push(label);
  }
  return [
    ...(unpinned.length > 0
      ? [
          finding(
            "no-id-pinning",
            `${unpinned.join(", ")}: no gitlab.com:project_id or namespace_id condition: a project deleted or renamed frees its path, and whoever takes it gets the role; pin the IDs`,
          ),
        ]
      : []),
    ...(unprotected.length > 0
      ? [
          finding(
            "unprotected-refs",
            `${unprotected.join(", ")}: no gitlab.com:ref_protected condition: a job on an unprotected branch or tag of the same name gets the role; require "true"`,
          ),
        ]
      : []),
  ];
}

/** Every finding for a role that trusts a GitLab provider, in statement order, then role-wide ones. */
export function auditRole(role: AuditedRole, trust: GitLabTrust): Finding[] {
  const rank: Record<Severity, number> = { critical: 0, error: 1, warning: 2 };
  // Most severe first; within a severity, in statement order (the sort is stable).
  return findingsOf(role, trust).sort((a, b) => rank[a.severity] - rank[b.severity]);
}

function findingsOf(role: AuditedRole, trust: GitLabTrust): Finding[] {
  const statements = trust.statements.filter(allowsWebIdentity);
  const findings = statements.flatMap((statement) => shapeFindings(statement, trust));
  const unmodelled = role.trustPolicy.statements.filter((s) => s.negatedElements.length > 0);
  if (unmodelled.length > 0) {
    return [
      ...findings,
      finding(
        "not-evaluated",
        `${unmodelled.map(statementLabel).join(", ")} use ${unmodelled[0].negatedElements.join(" and ")}, which the audit does not evaluate; review who can assume the role by hand`,
      ),
    ];
  }
  try {
    const verdict = judge(evaluablePolicy(role.trustPolicy, trust.providerArn), trust);
    findings.push(...statements.flatMap((statement) => accessFindings(statement, trust, verdict)));
    if (trust.issuerHost === GITLAB_COM_ISSUER_HOST)
      findings.push(...gitlabComFindings(statements, trust, verdict));
  } catch (error) {
    findings.push(
      finding(
        "not-evaluated",
        `the trust policy could not be evaluated (${(error as Error).message}); review it by hand`,
      ),
    );
  }
  return findings;
}

export function hasCritical(findings: readonly Finding[]): boolean {
  return findings.some((f) => f.severity === "critical");
}
