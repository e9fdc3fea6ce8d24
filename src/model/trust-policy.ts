/**
 * Grants → the role's trust policy, as the IAM JSON document AWS will evaluate.
 *
 * This document is the one model everything else reads: the construct renders it as an
 * `aws_iam_policy_document` data source, the config rules measure its length against IAM's quota, and
 * the evaluator (src/iam/evaluate.ts) answers who may assume the role.
 *
 * Shape, by construction:
 * - every statement requires `aud` (StringEquals) and `sub`, so an `aud`-only trust cannot be written;
 * - a grant's `sub` values and its other conditions (pinned IDs, ref_protected, pipeline_source, …) are in
 *   the same statement (ANDed), so no token can pair one grant's `sub` with another grant's project ID;
 *   grants with identical other conditions share statements (the policy stays small);
 * - exact subjects and wildcard subjects are in separate statements (statements are ORed), so the two
 *   operators are never ANDed, and a wildcard never lands under StringEquals.
 */
import type { AllowEntry } from "../config/schema";
import { grantTrust, type TrustSettings } from "./grants";
import { operatorFor, type SubjectOperator } from "./subjects";

export const ASSUME_ROLE_WITH_WEB_IDENTITY = "sts:AssumeRoleWithWebIdentity";
export const EXACT_SUBJECTS_SID = "GitLabExactSubjects";
export const WILDCARD_SUBJECTS_SID = "GitLabWildcardSubjects";

/** Condition operator → condition key → values (any value may match). */
export type IamConditions = Record<string, Record<string, string[]>>;

export interface IamStatement {
  readonly Sid?: string;
  readonly Effect: "Allow" | "Deny";
  readonly Action: string[];
  readonly Principal: { readonly Federated: string[] };
  readonly Condition: IamConditions;
}

export interface IamPolicyDocument {
  readonly Version: "2012-10-17";
  readonly Statement: IamStatement[];
}

export interface TrustPolicyProps extends TrustSettings {
  /** ARN of the IAM OIDC provider for the GitLab instance (a Terraform reference inside a stack). */
  readonly providerArn: string;
  /** Values the token's `aud` must equal (any of them). */
  readonly audiences: readonly string[];
  /** The role's grants (ORed). */
  readonly allow: readonly AllowEntry[];
}

/** `https://gitlab.example.com/gitlab` → `gitlab.example.com/gitlab`, as IAM names its condition keys. */
export function issuerHost(gitlabUrl: string): string {
  return gitlabUrl.replace(/^https:\/\//, "");
}

export function oidcProviderArn(partition: string, accountId: string, gitlabUrl: string): string {
  return `arn:${partition}:iam::${accountId}:oidc-provider/${issuerHost(gitlabUrl)}`;
}

/** Statement IDs name what a statement pins: `Project1001Exact`, `Group2002Wildcard`, `GitLabExactSubjects`. */
function statementSid(
  conditions: Readonly<Record<string, readonly string[]>>,
  operator: SubjectOperator,
): string {
  const key = (claim: string) => Object.keys(conditions).find((k) => k.endsWith(`:${claim}`));
  const project = key("project_id");
  const group = key("namespace_id");
  const kind = operator === "StringEquals" ? "Exact" : "Wildcard";
  if (project) return `Project${conditions[project][0]}${kind}`;
  if (group) return `Group${conditions[group][0]}${kind}`;
  return operator === "StringEquals" ? EXACT_SUBJECTS_SID : WILDCARD_SUBJECTS_SID;
}

/**
 * `policy` (trustPolicyFor's) trusting `providerArn` instead: trustPolicyFor writes the provider's ARN
 * only as each statement's federated principal, so this equals trustPolicyFor with that ARN.
 */
export function withProviderArn(policy: IamPolicyDocument, providerArn: string): IamPolicyDocument {
  return {
    ...policy,
    Statement: policy.Statement.map((statement) => ({
      ...statement,
      Principal: { Federated: [providerArn] },
    })),
  };
}

export function trustPolicyFor(props: TrustPolicyProps): IamPolicyDocument {
  const audKey = `${props.issuerHost}:aud`;
  const subKey = `${props.issuerHost}:sub`;
  // Statements keyed by their other conditions and the sub operator, in the order grants first need them.
  const groups = new Map<
    string,
    { conditions: Record<string, readonly string[]>; operator: SubjectOperator; subjects: string[] }
  >();
  for (const grant of props.allow) {
    const trust = grantTrust(grant, props);
    const conditions = Object.fromEntries(
      Object.entries(trust.conditions).sort(([a], [b]) => (a < b ? -1 : 1)),
    );
    for (const subject of trust.subjects) {
      const operator = operatorFor(subject);
      const key = JSON.stringify([conditions, operator]);
      const group = groups.get(key) ?? { conditions, operator, subjects: [] };
      groups.set(key, group);
      if (!group.subjects.includes(subject)) group.subjects.push(subject);
    }
  }
  const sids = new Map<string, number>();
  const statements = [...groups.values()].map(({ conditions, operator, subjects }): IamStatement => {
    const base = statementSid(conditions, operator);
    const seen = (sids.get(base) ?? 0) + 1;
    sids.set(base, seen);
    const condition: IamConditions = {
      StringEquals: {
        [audKey]: [...props.audiences],
        ...Object.fromEntries(Object.entries(conditions).map(([k, v]) => [k, [...v]])),
      },
    };
    condition[operator] = { ...condition[operator], [subKey]: subjects };
    return {
      Sid: seen === 1 ? base : `${base}${seen}`,
      Effect: "Allow",
      Action: [ASSUME_ROLE_WITH_WEB_IDENTITY],
      Principal: { Federated: [props.providerArn] },
      Condition: condition,
    };
  });
  return { Version: "2012-10-17", Statement: statements };
}

/**
 * The document's length as IAM counts it against the trust policy quota: the JSON without white space,
 * with one-element lists written as plain strings, as `aws_iam_policy_document` renders them. The
 * provider encodes with Go's encoding/json, which writes `<`, `>`, `&`, U+2028 and U+2029 as `\u00XX`
 * escapes (6 characters each; terraform-provider-aws internal/service/iam policy_model.go, json.Marshal);
 * characters are counted as code points.
 */
export function policyLength(document: unknown): number {
  // Summed over the document, without building the compacted copy and its JSON: it runs for every
  // role's trust policy and inline policies, twice per synth. Anything but plain JSON data is measured
  // by its rendering (policyLengthOfJson).
  const length = plainLength(document, 0);
  return length >= 0 ? length : policyLengthOfJson(document);
}

/** policyLength by rendering the compacted document: the definition, for what plainLength does not take. */
export function policyLengthOfJson(document: unknown): number {
  const compact = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.length === 1 ? compact(value[0]) : value.map(compact);
    if (value && typeof value === "object") {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, compact(v)]));
    }
    return value;
  };
  const json = JSON.stringify(compact(document)).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
  // Code points: UTF-16 units less one per surrogate pair (a lone surrogate is one, as in `[...json]`),
  // without building an array of every character.
  return json.length - (json.match(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g)?.length ?? 0);
}

/** Deeper than any policy: a cycle or a pathological document goes to policyLengthOfJson (its error). */
const MAX_PLAIN_DEPTH = 64;

/**
 * policyLength of plain JSON data (strings, finite numbers, booleans, null, arrays, objects of the
 * Object prototype with such values), -1 for anything else. An array of one element counts as that
 * element; an object's undefined values are left out, as JSON.stringify leaves them.
 */
function plainLength(value: unknown, depth: number): number {
  if (typeof value === "string") return stringLength(value);
  if (typeof value === "boolean") return value ? 4 : 5;
  if (typeof value === "number") return Number.isFinite(value) ? JSON.stringify(value).length : -1;
  if (value === null) return 4;
  if (typeof value !== "object" || depth > MAX_PLAIN_DEPTH) return -1;
  if (Array.isArray(value)) {
    if (value.length === 1) return plainLength(value[0], depth + 1);
    let length = value.length > 0 ? value.length + 1 : 2; // brackets and commas
    for (let i = 0; i < value.length; i++) {
      if (!(i in value)) return -1;
      const element = plainLength(value[i], depth + 1);
      if (element < 0) return -1;
      length += element;
    }
    return length;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) return -1;
  let length = 2;
  let members = 0;
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue;
    const member = (value as Record<string, unknown>)[key];
    if (member === undefined) continue;
    const inner = plainLength(member, depth + 1);
    if (inner < 0) return -1;
    length += stringLength(key) + 1 + inner;
    members++;
  }
  return members > 0 ? length + members - 1 : length;
}

/** Text with none of the characters stringLength counts apart: its JSON is its units and two quotes. */
// eslint-disable-next-line no-control-regex -- control characters are among those it looks for
const PLAIN_JSON_TEXT = /^[^\x00-\x1f"\\<>&\u2028\u2029\ud800-\udfff]*$/;

/**
 * A string's JSON length in code points: JSON.stringify's escapes (`\"`, `\\`, `\n`-style, `\u00XX`
 * for other controls, `\uDXXX` for a lone surrogate), Go's six-character escapes of `<>&` U+2028
 * U+2029, and a surrogate pair as one code point. One pass, no string made.
 */
function stringLength(text: string): number {
  // Most strings hold none of the characters counted below: one match instead of a loop in JavaScript.
  if (PLAIN_JSON_TEXT.test(text)) return text.length + 2;
  let length = text.length + 2;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x20 && c < 0x7f) {
      if (c === 34 || c === 92) length += 1;
      else if (c === 60 || c === 62 || c === 38) length += 5;
    } else if (c < 0x20) {
      length += c === 8 || c === 9 || c === 10 || c === 12 || c === 13 ? 1 : 5;
    } else if (c === 0x2028 || c === 0x2029) {
      length += 5;
    } else if (c >= 0xd800 && c <= 0xdfff) {
      const next = text.charCodeAt(i + 1);
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        length -= 1; // a pair: one code point
        i++;
      } else {
        length += 5; // a lone surrogate: JSON.stringify writes \uDXXX
      }
    }
  }
  return length;
}
