/**
 * Grants → the role's trust policy, as the IAM JSON document AWS will evaluate.
 *
 * This document is the one model everything else reads: the construct renders it as an
 * `aws_iam_policy_document` data source, the config rules measure its length against IAM's quota, and
 * the evaluator (src/iam/evaluate.ts) answers who may assume the role.
 *
 * Shape, by construction:
 * - every statement requires `aud` (StringEquals) and `sub`, so an `aud`-only trust cannot be written;
 * - exact subjects and wildcard subjects are in separate statements (statements are ORed), so the two
 *   operators are never ANDed, and a wildcard never lands under StringEquals.
 */
import type { AllowEntry } from "../config/schema";
import { operatorFor, subjectsForGrant, type SubjectOperator } from "./subjects";

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

export interface TrustPolicyProps {
  /** ARN of the IAM OIDC provider for the GitLab instance (a Terraform reference inside a stack). */
  readonly providerArn: string;
  /** The provider URL without `https://`: the prefix of IAM's condition keys (`gitlab.com:sub`). */
  readonly issuerHost: string;
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

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

export function trustPolicyFor(props: TrustPolicyProps): IamPolicyDocument {
  const subjects = unique(props.allow.flatMap(subjectsForGrant));
  const audKey = `${props.issuerHost}:aud`;
  const subKey = `${props.issuerHost}:sub`;
  const statement = (sid: string, subjectOperator: SubjectOperator, values: string[]): IamStatement => {
    const condition: IamConditions = { StringEquals: { [audKey]: [...props.audiences] } };
    condition[subjectOperator] = { ...condition[subjectOperator], [subKey]: values };
    return {
      Sid: sid,
      Effect: "Allow",
      Action: [ASSUME_ROLE_WITH_WEB_IDENTITY],
      Principal: { Federated: [props.providerArn] },
      Condition: condition,
    };
  };
  const exact = subjects.filter((s) => operatorFor(s) === "StringEquals");
  const wildcard = subjects.filter((s) => operatorFor(s) === "StringLike");
  return {
    Version: "2012-10-17",
    Statement: [
      ...(exact.length > 0 ? [statement(EXACT_SUBJECTS_SID, "StringEquals", exact)] : []),
      ...(wildcard.length > 0 ? [statement(WILDCARD_SUBJECTS_SID, "StringLike", wildcard)] : []),
    ],
  };
}

/**
 * The document's length as IAM counts it against the trust policy quota: the JSON without white space,
 * with one-element lists written as plain strings, as `aws_iam_policy_document` renders them.
 */
export function policyLength(document: unknown): number {
  const compact = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.length === 1 ? compact(value[0]) : value.map(compact);
    if (value && typeof value === "object") {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, compact(v)]));
    }
    return value;
  };
  return JSON.stringify(compact(document)).length;
}
