/**
 * Reading GitLab's default `sub` claim and the trust policy's `sub` values back into their parts:
 * `project_path:{path}:ref_type:{branch|tag}:ref:{name}` (see formatSubject in src/model/subjects.ts).
 * Group grants are `project_path:<group>/*:…`; an any-ref grant is `project_path:<p>:ref_type:*`.
 */
import { hasWildcard } from "../model/subjects";

/** The parts of a job's `sub` claim. Project paths and ref names cannot contain `:`. */
export interface SubjectClaims {
  readonly projectPath: string;
  readonly refType: string;
  /** Missing when the project customised its `sub` without the ref. */
  readonly ref?: string;
}

/** What one `sub` value of a trust policy grants, as a reader thinks of it. */
export interface SubjectGrant {
  /** The trust policy value, verbatim. */
  readonly value: string;
  /**
   * `project`: one project; `group`: every project below `path` (the value ends in `<group>/*`);
   * `pattern`: any other project pattern (not written by this tool; shown verbatim).
   */
  readonly scope: "project" | "group" | "pattern";
  /** The project path, the group path (without `/*`), or the raw project pattern. */
  readonly path: string;
  /** The project part as written in the value (`acme/platform/*` for a group). */
  readonly projectPattern: string;
  /** `branch`, `tag`, or `*` for any ref. */
  readonly refType: string;
  /** Branch or tag name or pattern; undefined for any ref. */
  readonly ref?: string;
}

/** Both claims and trust policy values: the project and ref type cannot contain `:`; the ref is the rest. */
const SUBJECT = /^project_path:([^:]*):ref_type:([^:]*)(?::ref:([\s\S]*))?$/;

export function parseSubjectClaim(sub: string): SubjectClaims | undefined {
  const match = SUBJECT.exec(sub);
  if (!match) return undefined;
  return { projectPath: match[1], refType: match[2], ...(match[3] !== undefined ? { ref: match[3] } : {}) };
}

/** A trust policy `sub` value → what it grants; undefined when it is not in GitLab's default format. */
export function parseSubjectGrant(value: string): SubjectGrant | undefined {
  const match = SUBJECT.exec(value);
  if (!match) return undefined;
  const [, projectPattern, refType, ref] = match;
  if (refType === "*" && ref !== undefined) return undefined;
  const group = /^(.+)\/\*$/.exec(projectPattern)?.[1];
  const scope =
    group !== undefined && !hasWildcard(group)
      ? "group"
      : hasWildcard(projectPattern)
        ? "pattern"
        : "project";
  return {
    value,
    scope,
    path: scope === "group" ? (group as string) : projectPattern,
    projectPattern,
    refType,
    ...(ref !== undefined ? { ref } : {}),
  };
}

/** `project acme/web, branch release/*` / `group acme/platform (every project below it), any ref`. */
export function describeGrant(grant: SubjectGrant): string {
  const who =
    grant.scope === "group"
      ? `group ${grant.path} (every project below it)`
      : grant.scope === "project"
        ? `project ${grant.path}`
        : `projects matching ${grant.path}`;
  const refs =
    grant.refType === "*" ? "any ref (every branch and tag)" : `${grant.refType} ${grant.ref ?? "(no ref)"}`;
  return `${who}, ${refs}`;
}
