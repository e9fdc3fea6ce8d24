/**
 * Grants → `sub` claim values. GitLab's default subject is
 * `project_path:{path}:ref_type:{branch|tag}:ref:{name}`; one pure function formats it, and the IAM
 * operator follows from the value: a `*` or `?` needs `StringLike`, anything else `StringEquals`.
 */
import type { AllowEntry } from "../config/schema";

export type RefType = "branch" | "tag";
export type SubjectOperator = "StringEquals" | "StringLike";

/** The `sub` claim GitLab puts in a job's ID token (or a pattern of it). */
export function formatSubject(projectPath: string, refType: RefType | "*", ref?: string): string {
  return refType === "*"
    ? `project_path:${projectPath}:ref_type:*`
    : `project_path:${projectPath}:ref_type:${refType}:ref:${ref}`;
}

export function hasWildcard(value: string): boolean {
  return value.includes("*") || value.includes("?");
}

export function operatorFor(value: string): SubjectOperator {
  return hasWildcard(value) ? "StringLike" : "StringEquals";
}

/**
 * The project part of a grant's subjects. A group becomes `<group>/*`: the `/` before the `*` is what
 * keeps `acme/platform` from matching the sibling `acme/platform-evil`.
 */
export function projectPattern(grant: AllowEntry): string {
  if (grant.project !== undefined) return grant.project;
  if (grant.group !== undefined) return `${grant.group}/*`;
  throw new Error("an allow entry names neither project nor group (the config rules should have refused it)");
}

/** Every `sub` value one grant allows, in config order. */
export function subjectsForGrant(grant: AllowEntry): string[] {
  const project = projectPattern(grant);
  if (grant.anyRef) return [formatSubject(project, "*")];
  return [
    ...(grant.branches ?? []).map((branch) => formatSubject(project, "branch", branch)),
    ...(grant.tags ?? []).map((tag) => formatSubject(project, "tag", tag)),
  ];
}
