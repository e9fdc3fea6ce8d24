/**
 * `sub` claim values and the IAM operator they need. GitLab's default subject is
 * `project_path:{path}:ref_type:{branch|tag}:ref:{name}`; customised subjects are formatted by
 * formatSubClaim (src/model/claims.ts). A `*` or `?` needs `StringLike`, anything else `StringEquals`.
 */
import { DEFAULT_SUB_CLAIM, formatSubClaim } from "./claims";

export type RefType = "branch" | "tag";
export type SubjectOperator = "StringEquals" | "StringLike";

/** The `sub` claim GitLab puts in a job's ID token with the default components (or a pattern of it). */
export function formatSubject(projectPath: string, refType: RefType | "*", ref?: string): string {
  return formatSubClaim(DEFAULT_SUB_CLAIM, {
    project_path: projectPath,
    ref_type: refType,
    ref: refType === "*" ? "*" : ref,
  });
}

export function hasWildcard(value: string): boolean {
  return value.includes("*") || value.includes("?");
}

export function operatorFor(value: string): SubjectOperator {
  return hasWildcard(value) ? "StringLike" : "StringEquals";
}
