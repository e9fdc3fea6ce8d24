/**
 * IAM's evaluation of a role trust policy for `sts:AssumeRoleWithWebIdentity`, for the subset of the
 * policy language web-identity trust policies use. One implementation, used by the tests' semantic
 * checks, the `explain` tool and the STS stand-in, so they cannot drift apart.
 *
 * Semantics (IAM User Guide, "Policy evaluation logic" and "Condition operators"):
 * - statements are ORed; an explicit Deny that matches wins over any Allow;
 * - a statement matches when its Action, Principal and every condition match (operators and keys ANDed);
 * - a key's values are ORed; a missing key never matches, except under a negated operator or IfExists;
 * - StringEquals is exact and case-sensitive; StringLike's `*` is any run (including `/` and `:`), `?` one
 *   character, case-sensitive.
 * Anything outside that subset (another operator, a policy variable) throws rather than guess.
 */
import type { IamPolicyDocument, IamStatement } from "../model/trust-policy";

export interface AssumeRoleRequest {
  /** The federated principal making the call: the ARN (or Terraform reference) of the OIDC provider. */
  readonly federatedPrincipal: string;
  /** @default sts:AssumeRoleWithWebIdentity */
  readonly action?: string;
  /**
   * Condition keys present in the request, e.g. `{ "gitlab.com:sub": "...", "gitlab.com:project_id": "..." }`:
   * build it from a token with requestContextFor (src/model/claims.ts), which supplies only the keys AWS
   * supplies for the issuer. A key absent here fails every condition on it, as in IAM.
   */
  readonly context: Readonly<Record<string, string | undefined>>;
}

export interface ConditionResult {
  readonly operator: string;
  readonly key: string;
  readonly values: readonly string[];
  /** The request's value for the key; undefined when the key is missing. */
  readonly actual: string | undefined;
  readonly matched: boolean;
  /** The first policy value that matched, when one did. */
  readonly matchedValue?: string;
}

export interface StatementResult {
  readonly index: number;
  readonly sid?: string;
  readonly effect: "Allow" | "Deny";
  readonly actionMatched: boolean;
  readonly principalMatched: boolean;
  readonly conditions: readonly ConditionResult[];
  readonly matched: boolean;
}

export interface Evaluation {
  readonly decision: "Allow" | "ExplicitDeny" | "ImplicitDeny";
  readonly allowed: boolean;
  readonly statements: readonly StatementResult[];
}

const SUPPORTED_OPERATORS = new Set([
  "StringEquals",
  "StringNotEquals",
  "StringEqualsIgnoreCase",
  "StringNotEqualsIgnoreCase",
  "StringLike",
  "StringNotLike",
]);

const patternCache = new Map<string, RegExp>();

/** IAM's StringLike: `*` any run of characters, `?` exactly one; everything else literal. */
export function stringLike(pattern: string, value: string): boolean {
  let regex = patternCache.get(pattern);
  if (!regex) {
    const source = pattern
      .split("")
      .map((c) => (c === "*" ? "[\\s\\S]*" : c === "?" ? "[\\s\\S]" : c.replace(/[\\^$.|+()[\]{}]/g, "\\$&")))
      .join("");
    regex = new RegExp(`^${source}$`);
    if (patternCache.size > 10_000) patternCache.clear();
    patternCache.set(pattern, regex);
  }
  return regex.test(value);
}

function valueMatches(baseOperator: string, policyValue: string, actual: string): boolean {
  if (policyValue.includes("${")) {
    throw new Error(`policy variables are not supported by this evaluator: "${policyValue}"`);
  }
  switch (baseOperator) {
    case "StringEquals":
      return policyValue === actual;
    case "StringEqualsIgnoreCase":
      return policyValue.toLowerCase() === actual.toLowerCase();
    case "StringLike":
      return stringLike(policyValue, actual);
    default:
      throw new Error(`unsupported condition operator ${baseOperator}`);
  }
}

export function evaluateCondition(
  operator: string,
  key: string,
  values: readonly string[],
  context: AssumeRoleRequest["context"],
): ConditionResult {
  const ifExists = operator.endsWith("IfExists");
  const base = ifExists ? operator.slice(0, -"IfExists".length) : operator;
  if (!SUPPORTED_OPERATORS.has(base)) throw new Error(`unsupported condition operator ${operator}`);
  const negated = base.includes("Not");
  const positive = base.replace("Not", "");
  // Own keys only: a condition key such as "constructor" is absent, not Object.prototype's member.
  const actual = Object.hasOwn(context, key) ? context[key] : undefined;
  if (actual === undefined) {
    return { operator, key, values, actual, matched: ifExists || negated };
  }
  const matchedValue = values.find((value) => valueMatches(positive, value, actual));
  const matched = negated ? matchedValue === undefined : matchedValue !== undefined;
  return {
    operator,
    key,
    values,
    actual,
    matched,
    ...(matchedValue !== undefined && !negated ? { matchedValue } : {}),
  };
}

function actionMatches(actions: readonly string[], action: string): boolean {
  // Action names are case-insensitive and may use * and ? wildcards.
  return actions.some((pattern) => stringLike(pattern.toLowerCase(), action.toLowerCase()));
}

export function evaluateStatement(
  statement: IamStatement,
  index: number,
  request: AssumeRoleRequest,
): StatementResult {
  const actionMatched = actionMatches(statement.Action, request.action ?? "sts:AssumeRoleWithWebIdentity");
  const principalMatched = statement.Principal.Federated.includes(request.federatedPrincipal);
  const conditions = Object.entries(statement.Condition).flatMap(([operator, keys]) =>
    Object.entries(keys).map(([key, values]) => evaluateCondition(operator, key, values, request.context)),
  );
  return {
    index,
    ...(statement.Sid ? { sid: statement.Sid } : {}),
    effect: statement.Effect,
    actionMatched,
    principalMatched,
    conditions,
    matched: actionMatched && principalMatched && conditions.every((c) => c.matched),
  };
}

/** Would IAM let this request assume the role whose trust policy is `policy`? */
export function evaluateTrustPolicy(policy: IamPolicyDocument, request: AssumeRoleRequest): Evaluation {
  const statements = policy.Statement.map((statement, i) => evaluateStatement(statement, i, request));
  const decision = statements.some((s) => s.matched && s.effect === "Deny")
    ? "ExplicitDeny"
    : statements.some((s) => s.matched && s.effect === "Allow")
      ? "Allow"
      : "ImplicitDeny";
  return { decision, allowed: decision === "Allow", statements };
}
