/**
 * IAM's decision for a request by a role to a resource (S3 state objects, the bucket, a KMS key) under
 * the role's identity policies and the resource's policy: the subset of IAM's evaluation logic that the
 * generated state permissions use. It reuses the trust-policy evaluator's condition operators
 * (evaluate.ts), so both judge `StringLike`, negation and missing keys alike.
 *
 * Semantics (IAM User Guide, "Policy evaluation logic", "Cross-account policy evaluation logic"):
 * - an explicit Deny that matches, in any of the policies, wins;
 * - same account: allowed when an identity policy allows, or the resource policy allows naming the role
 *   itself (a resource policy naming the account root, `arn:…:root`, delegates to identity policies);
 * - another account: allowed only when an identity policy AND the resource policy allow;
 * - `Arn*` operators compare like `StringLike` (IAM's ARN matching with `*` and `?`), `Bool` ignores case.
 * `NotResource` matches what none of its patterns match; `NotAction`, `NotPrincipal` and other operators
 * throw rather than guess.
 */
import { evaluateCondition, stringLike } from "./evaluate";
import type { IamDocument, IamStatement } from "../model/state-access";

export interface AccessRequest {
  /** The calling role's ARN (`aws:PrincipalArn`), e.g. `arn:aws:iam::111111111111:role/gitlab/deployer`. */
  readonly principalArn: string;
  /** e.g. `s3:PutObject`. */
  readonly action: string;
  /** e.g. `arn:aws:s3:::bucket/key`. */
  readonly resource: string;
  /**
   * Further condition keys, e.g. `{ "s3:prefix": "env:/" }`. `aws:PrincipalArn` comes from principalArn
   * and `aws:SecureTransport` is "true" unless given.
   */
  readonly context?: Readonly<Record<string, string | undefined>>;
}

export interface AccessPolicies {
  /** The policies attached to the calling role (inline and managed). */
  readonly identityPolicies: readonly IamDocument[];
  /** The resource's own policy (the bucket policy), if any. */
  readonly resourcePolicy?: IamDocument;
  /** The account that owns the resource. */
  readonly resourceAccount: string;
}

export interface AccessDecision {
  readonly decision: "Allow" | "ExplicitDeny" | "ImplicitDeny";
  readonly allowed: boolean;
  /** The Sids of the statements that decided it (the Deny, or the Allows). */
  readonly by: readonly string[];
}

const OPERATOR_ALIASES: Readonly<Record<string, string>> = {
  ArnEquals: "StringLike",
  ArnLike: "StringLike",
  ArnNotEquals: "StringNotLike",
  ArnNotLike: "StringNotLike",
  Bool: "StringEqualsIgnoreCase",
};

function accountOf(arn: string): string {
  return arn.split(":")[4] ?? "";
}

function conditionsMatch(
  statement: IamStatement,
  context: Readonly<Record<string, string | undefined>>,
): boolean {
  return Object.entries(statement.Condition ?? {}).every(([operator, keys]) => {
    const ifExists = operator.endsWith("IfExists") ? "IfExists" : "";
    const base = ifExists ? operator.slice(0, -ifExists.length) : operator;
    const mapped = (OPERATOR_ALIASES[base] ?? base) + ifExists;
    return Object.entries(keys).every(
      ([key, values]) => evaluateCondition(mapped, key, values, context).matched,
    );
  });
}

function checkSupported(statement: IamStatement): void {
  for (const key of ["NotAction", "NotPrincipal"]) {
    if (Object.hasOwn(statement, key))
      throw new Error(`${key} is not supported by this evaluator (${statement.Sid})`);
  }
}

/** How a statement's Principal names the caller: the role itself, its account, anyone, or not at all. */
function principalMatch(
  statement: IamStatement,
  principalArn: string,
): "role" | "account" | "any" | undefined {
  const principal = statement.Principal;
  if (principal === undefined) return undefined;
  if (principal === "*") return "any";
  const account = accountOf(principalArn);
  const partition = principalArn.split(":")[1];
  if (principal.AWS.includes(principalArn) || principal.AWS.includes("*")) return "role";
  if (principal.AWS.includes(`arn:${partition}:iam::${account}:root`) || principal.AWS.includes(account)) {
    return "account";
  }
  return undefined;
}

function statementMatches(
  statement: IamStatement,
  request: AccessRequest,
  context: Readonly<Record<string, string | undefined>>,
): boolean {
  checkSupported(statement);
  const action = request.action.toLowerCase();
  return (
    statement.Action.some((pattern) => stringLike(pattern.toLowerCase(), action)) &&
    (statement.Resource !== undefined
      ? statement.Resource.some((pattern) => stringLike(pattern, request.resource))
      : !(statement.NotResource ?? []).some((pattern) => stringLike(pattern, request.resource))) &&
    conditionsMatch(statement, context)
  );
}

export function evaluateAccess(request: AccessRequest, policies: AccessPolicies): AccessDecision {
  const context = {
    "aws:SecureTransport": "true",
    ...request.context,
    "aws:PrincipalArn": request.principalArn,
    "aws:PrincipalAccount": accountOf(request.principalArn),
  };
  const identity = policies.identityPolicies
    .flatMap((p) => p.Statement)
    .filter((s) => statementMatches(s, request, context));
  const resource = (policies.resourcePolicy?.Statement ?? []).filter((s) => {
    const match = principalMatch(s, request.principalArn);
    return match !== undefined && statementMatches(s, request, context);
  });
  const denies = [...identity, ...resource].filter((s) => s.Effect === "Deny");
  if (denies.length > 0) return { decision: "ExplicitDeny", allowed: false, by: denies.map((s) => s.Sid) };
  const identityAllows = identity.filter((s) => s.Effect === "Allow");
  const resourceAllows = resource.filter((s) => s.Effect === "Allow");
  const sameAccount = accountOf(request.principalArn) === policies.resourceAccount;
  const allowed = sameAccount
    ? identityAllows.length > 0 ||
      resourceAllows.some((s) => principalMatch(s, request.principalArn) !== "account")
    : identityAllows.length > 0 && resourceAllows.length > 0;
  return allowed
    ? { decision: "Allow", allowed: true, by: [...identityAllows, ...resourceAllows].map((s) => s.Sid) }
    : { decision: "ImplicitDeny", allowed: false, by: [] };
}
