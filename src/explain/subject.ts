/**
 * Reading `sub` claims and the trust policy's `sub` values back into their parts. GitLab builds `sub`
 * as `name:value` pairs (formatSubClaim in src/model/claims.ts); values never contain `:` (paths and
 * ref names cannot), so the pairs split cleanly. Group grants are `project_path:<group>/*:…`; an any-ref
 * grant has `ref_type:*` (and `ref:*`, or nothing after it in the older form). A `sub` that starts with
 * `project_id` names the project by ID: it is read with `projectId` set and `projectPath` empty.
 */
import { SUB_CLAIM_COMPONENTS } from "../model/claims";
import { hasWildcard } from "../model/subjects";

/** The parts of a job's `sub` claim. Project paths and ref names cannot contain `:`. */
export interface SubjectClaims {
  /** Empty when the sub names the project by ID. */
  readonly projectPath: string;
  /** Set when the sub starts with `project_id`. */
  readonly projectId?: string;
  /** Empty when the project customised its `sub` without the ref type. */
  readonly refType: string;
  /** Missing when the project customised its `sub` without the ref. */
  readonly ref?: string;
  /** Other components (`ref_protected`, `environment_protected`, `deployment_tier`), by name. */
  readonly other?: Readonly<Record<string, string>>;
}

/** What one `sub` value of a trust policy grants, as a reader thinks of it. */
export interface SubjectGrant {
  /** The trust policy value, verbatim. */
  readonly value: string;
  /**
   * `project`: one project; `group`: every project below `path` (the value ends in `<group>/*`);
   * `pattern`: any other project pattern (not written by this tool; shown verbatim); `id`: the project
   * with ID `path` (`project_id:<id>`), or, for `project_id:*`, whichever project the statement's
   * namespace condition allows.
   */
  readonly scope: "project" | "group" | "pattern" | "id";
  /** The project path, the group path (without `/*`), the raw project pattern, or the project ID. */
  readonly path: string;
  /** The project part as written in the value (`acme/platform/*` for a group). */
  readonly projectPattern: string;
  /** `branch`, `tag`, or `*` for any ref. */
  readonly refType: string;
  /** Branch or tag name or pattern; undefined for any ref. */
  readonly ref?: string;
  /** Other components the value requires (e.g. `ref_protected: "true"`). */
  readonly other?: Readonly<Record<string, string>>;
}

const COMPONENTS: readonly string[] = SUB_CLAIM_COMPONENTS;

/** `name:value` pairs of a sub (claim or pattern), or undefined when it is not in GitLab's format. */
function pairs(sub: string): [string, string][] | undefined {
  const parts = sub.split(":");
  if (parts.length % 2 !== 0) return undefined;
  const result: [string, string][] = [];
  for (let i = 0; i < parts.length; i += 2) {
    if (!COMPONENTS.includes(parts[i]) || result.some(([name]) => name === parts[i])) return undefined;
    result.push([parts[i], parts[i + 1]]);
  }
  const first = result[0]?.[0];
  return first === "project_path" || first === "project_id" ? result : undefined;
}

function partsOf(sub: string) {
  const list = pairs(sub);
  if (!list) return undefined;
  const values = Object.fromEntries(list);
  const other = Object.fromEntries(
    list.filter(([name]) => !["project_path", "project_id", "ref_type", "ref"].includes(name)),
  );
  return { values, other: Object.keys(other).length > 0 ? other : undefined };
}

export function parseSubjectClaim(sub: string): SubjectClaims | undefined {
  const parsed = partsOf(sub);
  if (!parsed) return undefined;
  const { values, other } = parsed;
  return {
    projectPath: values.project_path ?? "",
    ...(values.project_id !== undefined ? { projectId: values.project_id } : {}),
    refType: values.ref_type ?? "",
    ...(values.ref !== undefined ? { ref: values.ref } : {}),
    ...(other ? { other } : {}),
  };
}

/** A trust policy `sub` value → what it grants; undefined when it is not in GitLab's format. */
export function parseSubjectGrant(value: string): SubjectGrant | undefined {
  const parsed = partsOf(value);
  if (!parsed) return undefined;
  const { values, other } = parsed;
  const refType = values.ref_type ?? "*";
  const ref = refType === "*" ? undefined : values.ref;
  if (refType === "*" && values.ref !== undefined && values.ref !== "*") return undefined;
  if (values.project_id !== undefined) {
    return {
      value,
      scope: "id",
      path: values.project_id,
      projectPattern: values.project_id,
      refType,
      ...(ref !== undefined ? { ref } : {}),
      ...(other ? { other } : {}),
    };
  }
  const projectPattern = values.project_path;
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
    ...(other ? { other } : {}),
  };
}

/** `project acme/web, branch release/*` / `group acme/platform (every project below it), any ref`. */
export function describeGrant(grant: SubjectGrant): string {
  const who =
    grant.scope === "group"
      ? `group ${grant.path} (every project below it)`
      : grant.scope === "project"
        ? `project ${grant.path}`
        : grant.scope === "id"
          ? grant.path === "*"
            ? "the projects the statement's namespace_id condition allows"
            : `project ID ${grant.path}`
          : `projects matching ${grant.path}`;
  const refs =
    grant.refType === "*" ? "any ref (every branch and tag)" : `${grant.refType} ${grant.ref ?? "(no ref)"}`;
  const other = Object.entries(grant.other ?? {})
    .map(([name, value]) => `${name} ${value}`)
    .join(", ");
  return `${who}, ${refs}${other ? `, ${other}` : ""}`;
}
