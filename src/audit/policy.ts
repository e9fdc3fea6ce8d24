/**
 * A trust policy as the AWS CLI prints it (IAM's loose JSON: a string or a list, one statement or many,
 * `"*"` principals, URL-encoded documents) → one strict shape the audit can reason about and hand to the
 * evaluator (src/iam/evaluate.ts). Nothing here judges the policy; `findings.ts` does.
 */
import type { IamConditions, IamPolicyDocument, IamStatement } from "../model/trust-policy";

/** Input the audit cannot read: names what is wrong and where (`RoleDetailList[3].AssumeRolePolicyDocument`). */
export class AuditInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AuditInputError";
  }
}

export interface AuditPrincipal {
  /** `"Principal": "*"`, or `"*"` under Federated or AWS: anyone (any provider) may call. */
  readonly any: boolean;
  /** Federated principals: OIDC/SAML provider ARNs, or names such as `cognito-identity.amazonaws.com`. */
  readonly federated: readonly string[];
  /** AWS and Service principals, as `AWS:<arn>` / `Service:<name>`. */
  readonly other: readonly string[];
}

export interface AuditStatement {
  /** 1-based position in the document, as people count statements. */
  readonly number: number;
  readonly sid?: string;
  readonly effect: "Allow" | "Deny";
  readonly actions: readonly string[];
  /** The statement used NotAction / NotPrincipal, which the evaluator does not model. */
  readonly negatedElements: readonly string[];
  readonly principal: AuditPrincipal;
  /** Operator → key (lower case: IAM compares condition keys case-insensitively) → values. */
  readonly conditions: IamConditions;
}

export interface AuditPolicy {
  readonly statements: readonly AuditStatement[];
}

type Json = unknown;

/** An empty map without a prototype: for keys that come from the input. */
export function nullMap<T = Record<string, string[]>>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

function isObject(value: Json): value is Record<string, Json> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function list(value: Json): Json[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

function strings(value: Json, where: string): string[] {
  return list(value).map((item, i) => {
    if (typeof item === "string") return item;
    // IAM accepts booleans and numbers as condition values and compares their string form.
    if (typeof item === "boolean" || typeof item === "number") return String(item);
    throw new AuditInputError(`${where}[${i}] must be a string, not ${JSON.stringify(item)}`);
  });
}

/**
 * A policy document as IAM returns it: a JSON object (the CLI decodes it), or a string that is JSON or
 * URL-encoded JSON (the raw API, `--output text`, some SDK dumps).
 */
export function policyDocumentValue(value: Json, where: string): Record<string, Json> {
  let document = value;
  if (typeof value === "string") {
    const text = /^\s*[{[]/.test(value) ? value : decodeUrl(value, where);
    try {
      document = JSON.parse(text);
    } catch (error) {
      throw new AuditInputError(`${where} is not JSON (${(error as Error).message})`);
    }
  }
  if (!isObject(document)) throw new AuditInputError(`${where} must be a policy document object`);
  return document;
}

function decodeUrl(value: string, where: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    throw new AuditInputError(`${where} is neither JSON nor URL-encoded JSON`);
  }
}

function principalOf(value: Json, where: string): AuditPrincipal {
  if (value === undefined) return { any: false, federated: [], other: [] };
  if (value === "*") return { any: true, federated: [], other: [] };
  if (!isObject(value))
    throw new AuditInputError(`${where} must be "*" or an object such as {"Federated": "arn:…"}`);
  const federated = strings(value.Federated, `${where}.Federated`);
  const other = Object.entries(value)
    .filter(([type]) => type !== "Federated")
    .flatMap(([type, ids]) => strings(ids, `${where}.${type}`).map((id) => `${type}:${id}`));
  return {
    any: federated.includes("*") || other.includes("AWS:*"),
    federated: federated.filter((f) => f !== "*"),
    other,
  };
}

function conditionsOf(value: Json, where: string): IamConditions {
  if (value === undefined) return {};
  if (!isObject(value)) throw new AuditInputError(`${where} must be an object of operators`);
  // Prototype-less maps keyed by the input's own operators and keys: an operator named "__proto__" or
  // "constructor" is an entry like any other, never Object.prototype (which every other role reads).
  const conditions: IamConditions = nullMap();
  for (const [operator, keys] of Object.entries(value)) {
    if (!isObject(keys))
      throw new AuditInputError(`${where}.${operator} must be an object of condition keys`);
    const byKey = Object.hasOwn(conditions, operator) ? conditions[operator] : nullMap<string[]>();
    conditions[operator] = byKey;
    for (const [key, values] of Object.entries(keys)) {
      const lower = key.toLowerCase();
      byKey[lower] = [
        ...(Object.hasOwn(byKey, lower) ? byKey[lower] : []),
        ...strings(values, `${where}.${operator}["${key}"]`),
      ];
    }
  }
  return conditions;
}

/** Reads a trust policy document (already parsed) into the audit's shape; `where` names it in errors. */
export function readPolicy(document: Record<string, Json>, where: string): AuditPolicy {
  if (document.Statement === undefined) throw new AuditInputError(`${where} has no Statement`);
  const statements = list(document.Statement).map((raw, i): AuditStatement => {
    const at = `${where}.Statement[${i}]`;
    if (!isObject(raw)) throw new AuditInputError(`${at} must be an object`);
    if (raw.Effect !== "Allow" && raw.Effect !== "Deny") {
      throw new AuditInputError(`${at}.Effect must be "Allow" or "Deny" (got ${JSON.stringify(raw.Effect)})`);
    }
    const negatedElements = ["NotAction", "NotPrincipal"].filter((name) => raw[name] !== undefined);
    return {
      number: i + 1,
      ...(typeof raw.Sid === "string" && raw.Sid !== "" ? { sid: raw.Sid } : {}),
      effect: raw.Effect,
      actions: strings(raw.Action ?? raw.NotAction, `${at}.Action`),
      negatedElements,
      principal: principalOf(raw.Principal ?? raw.NotPrincipal, `${at}.Principal`),
      conditions: conditionsOf(raw.Condition, `${at}.Condition`),
    };
  });
  return { statements };
}

/** `statement 2 ("GitLabMain")`, as findings name statements. */
export function statementLabel(statement: AuditStatement): string {
  return `statement ${statement.number}${statement.sid ? ` (${statement.sid})` : ""}`;
}

/**
 * The statement as the evaluator's IamStatement, for requests from `providerArn`. A `"*"` principal
 * includes the provider, so it is written as the provider; NotAction/NotPrincipal are refused by the
 * caller before this is used.
 */
export function evaluableStatement(statement: AuditStatement, providerArn: string): IamStatement {
  return {
    ...(statement.sid ? { Sid: statement.sid } : {}),
    Effect: statement.effect,
    Action: [...statement.actions],
    Principal: { Federated: statement.principal.any ? [providerArn] : [...statement.principal.federated] },
    Condition: statement.conditions,
  };
}

export function evaluablePolicy(policy: AuditPolicy, providerArn: string): IamPolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: policy.statements.map((statement) => evaluableStatement(statement, providerArn)),
  };
}
