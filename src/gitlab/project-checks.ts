/**
 * What `npm run resolve` checks in the granted projects' own settings, beyond their IDs (issue 24):
 * - the sub claim components (`ci_id_token_sub_claim_components`): the trust policies assume every
 *   granted project's `sub` has `gitlab.subClaim`'s components; a project whose setting differs mints
 *   tokens no grant matches (or, for environment grants, cannot be told apart);
 * - protected refs (`--check`): a grant that requires protection (the default) for branch or tag
 *   patterns that match no protected branch or tag of the project lets no job in, silently.
 * GitLab shows both settings only to users who may administer the project (Maintainer); what a token
 * cannot read is reported as not checked, never as fine.
 */
import type { Config } from "../config/schema";
import { DEFAULT_SUB_CLAIM } from "../model/claims";
import { GitLabApiError, type GitLabApi, type GitLabProject, type ProtectedRef } from "./api";
import type { GitLabLock } from "./lock";

/** A granted project whose sub claim components are not the config's. */
export interface SubClaimMismatch {
  readonly path: string;
  readonly id: number;
  readonly actual: readonly string[];
  /** For a project below a granted group: the group whose sample it is in (not set by --apply-sub-claim). */
  readonly sampledFrom?: string;
}

/** A granted project as GitLab answered, and the granted group it was sampled from, if any. */
export type GrantedProject = GitLabProject & { readonly sampledFrom?: string };

/**
 * A sample of each granted group's projects (the most recently active), for the settings report: the
 * setting is per project, and a group grant covers projects the config does not name. Errors are notes.
 */
export async function sampleGrantedGroups(
  api: Pick<GitLabApi, "sampleGroupProjects">,
  lock: GitLabLock,
): Promise<{ projects: GrantedProject[]; note?: string }> {
  const projects: GrantedProject[] = [];
  try {
    for (const [path, group] of Object.entries(lock.groups)) {
      for (const project of await api.sampleGroupProjects(group.id, path, GROUP_SAMPLE_SIZE)) {
        projects.push({ ...project, sampledFrom: path });
      }
    }
  } catch (error) {
    if (!(error instanceof GitLabApiError)) throw error;
    return { projects, note: `could not list the projects of a granted group: ${error.message}` };
  }
  return { projects };
}

export interface SubClaimReport {
  readonly wanted: readonly string[];
  readonly mismatches: readonly SubClaimMismatch[];
  /** Named projects whose setting this token cannot see. */
  readonly unreadable: readonly string[];
  /** Sampled projects below granted groups whose setting this token cannot see. */
  readonly unreadableSampled: readonly string[];
}

/** Compares each project's components (when visible) with the config's `gitlab.subClaim`. */
export function subClaimReport(config: Config, projects: readonly GrantedProject[]): SubClaimReport {
  const wanted = config.gitlab.subClaim ?? DEFAULT_SUB_CLAIM;
  const mismatches: SubClaimMismatch[] = [];
  const unreadable: string[] = [];
  const unreadableSampled: string[] = [];
  const seen = new Set<number>();
  for (const project of projects) {
    if (seen.has(project.id)) continue;
    seen.add(project.id);
    if (project.subClaimComponents === undefined) {
      (project.sampledFrom === undefined ? unreadable : unreadableSampled).push(project.path);
    } else if (project.subClaimComponents.join(":") !== wanted.join(":")) {
      mismatches.push({
        path: project.path,
        id: project.id,
        actual: project.subClaimComponents,
        ...(project.sampledFrom !== undefined ? { sampledFrom: project.sampledFrom } : {}),
      });
    }
  }
  return { wanted, mismatches, unreadable, unreadableSampled };
}

/** A value as one shell word (single quotes; a `'` inside closes, escapes and reopens them). */
function shellWord(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** The exact API call that sets a project's sub claim components, to paste into a shell. */
export function subClaimApiCall(apiUrl: string, projectId: number, components: readonly string[]): string {
  const url = `${apiUrl.replace(/\/+$/, "")}/projects/${projectId}`;
  const body = JSON.stringify({ ci_id_token_sub_claim_components: components });
  return (
    `curl --fail-with-body --request PUT --header "PRIVATE-TOKEN: $GITLAB_TOKEN" ` +
    `--header 'Content-Type: application/json' --data ${shellWord(body)} ${shellWord(url)}`
  );
}

/** The lines resolve prints for the sub claim report (`apply`: --apply-sub-claim will set them). */
export function describeSubClaimReport(report: SubClaimReport, apiUrl: string, apply: boolean): string[] {
  const lines: string[] = [];
  const list = (components: readonly string[]) => `[${components.join(", ")}]`;
  for (const mismatch of report.mismatches) {
    const call = subClaimApiCall(apiUrl, mismatch.id, report.wanted);
    lines.push(
      `warning: project ${mismatch.path}${mismatch.sampledFrom !== undefined ? ` (below granted group ${mismatch.sampledFrom}, sampled)` : ""}: ` +
        `ci_id_token_sub_claim_components is ${list(mismatch.actual)}, ` +
        `gitlab.subClaim is ${list(report.wanted)}: its jobs' sub has another form than the trust policies expect, so no grant matches it. ` +
        (mismatch.sampledFrom !== undefined
          ? `--apply-sub-claim sets only the projects the config names; set it, and the group's other projects, with: ${call}`
          : apply
            ? "Setting it (--apply-sub-claim)."
            : `Set it with npm run resolve -- --apply-sub-claim, or: ${call}`),
    );
  }
  const unreadable = [
    ...report.unreadable,
    ...report.unreadableSampled.map((path) => `${path} (sampled from a granted group)`),
  ];
  if (unreadable.length > 0) {
    lines.push(
      `note: could not read the sub claim components of ${unreadable.join(", ")}: GitLab shows ` +
        "ci_id_token_sub_claim_components only to users with the Maintainer role on the project; with such a GITLAB_TOKEN, resolve compares them with gitlab.subClaim",
    );
  }
  return lines;
}

/** Why setting the components failed, in words a user can act on. */
export function describeApplyFailure(path: string, error: GitLabApiError): string {
  if (error.failure === "forbidden" || error.failure === "unauthorized") {
    return (
      `could not set the sub claim components of ${path}: ${error.message}. Setting ci_id_token_sub_claim_components ` +
      "needs the Maintainer role on the project and a token with the api scope (read_api cannot write)"
    );
  }
  if (error.status === 400) {
    return (
      `GitLab refused the sub claim components for ${path}: ${error.message}. GitLab before 18.7 accepts only ` +
      "project_path, ref_type and ref (environment_protected, deployment_tier, ref_protected and project_id came in 18.7)"
    );
  }
  return `could not set the sub claim components of ${path}: ${error.message}`;
}

/**
 * Do two ref patterns (`*` any run of characters, `?` one character, as grants and GitLab's protected
 * ref wildcards use them) match at least one common name? A search over pairs of positions.
 */
export function patternsOverlap(a: string, b: string): boolean {
  const seen = new Set<string>();
  const stack: [number, number][] = [[0, 0]];
  while (stack.length > 0) {
    const [i, j] = stack.pop() as [number, number];
    const key = `${i},${j}`;
    if (seen.has(key)) continue;
    seen.add(key);
    if (i === a.length && j === b.length) return true;
    // A `*` may match nothing.
    if (a[i] === "*") stack.push([i + 1, j]);
    if (b[j] === "*") stack.push([i, j + 1]);
    if (i === a.length || j === b.length) continue;
    // Or both consume one common character: a literal must equal a literal; `?` and `*` take any.
    const wildA = a[i] === "*" || a[i] === "?";
    const wildB = b[j] === "*" || b[j] === "?";
    if (wildA || wildB || a[i] === b[j]) stack.push([a[i] === "*" ? i : i + 1, b[j] === "*" ? j : j + 1]);
  }
  return false;
}

/** One grant's patterns that no protected ref matches. */
export interface UnprotectedPattern {
  /** `accounts[0].roles[1].allow[2]` */
  readonly at: string;
  readonly scope: "project" | "group";
  readonly path: string;
  readonly kind: "branch" | "tag";
  readonly pattern: string;
  /** For a group: how many of its projects were sampled. */
  readonly sampled?: number;
}

export interface ProtectedRefCheck {
  readonly unprotected: readonly UnprotectedPattern[];
  /** Set when the check could not run (no token, or the token may not read protected refs). */
  readonly couldNotCheck?: string;
}

/** How many of a granted group's projects the check looks at. */
export const GROUP_SAMPLE_SIZE = 10;

type ProtectedRefReader = Pick<GitLabApi, "listProtectedRefs" | "sampleGroupProjects">;

/**
 * For every grant that requires protection and names branch or tag patterns: the patterns that match no
 * protected branch or tag of its project (of no sampled project, for a group). Stops at the first
 * permission error: the same token would fail for every project.
 */
export async function checkProtectedRefs(
  api: ProtectedRefReader,
  config: Config,
  lock: GitLabLock,
  hasToken: boolean,
): Promise<ProtectedRefCheck> {
  if (!hasToken) {
    return {
      unprotected: [],
      couldNotCheck:
        "no GITLAB_TOKEN: GitLab lists protected branches and tags only to project Maintainers; set a Maintainer's read_api token to check that granted branch and tag patterns are protected",
    };
  }
  const cache = new Map<string, Promise<ProtectedRef[]>>();
  const protectedRefs = (project: { id: number; path: string }, kind: "branches" | "tags") => {
    const key = `${project.id} ${kind}`;
    if (!cache.has(key)) cache.set(key, api.listProtectedRefs(project.id, project.path, kind));
    return cache.get(key) as Promise<ProtectedRef[]>;
  };
  const samples = new Map<string, Promise<GitLabProject[]>>();
  const unprotected: UnprotectedPattern[] = [];
  try {
    for (const [a, account] of config.accounts.entries()) {
      for (const [r, role] of account.roles.entries()) {
        for (const [g, grant] of role.allow.entries()) {
          if (grant.protected === false || grant.anyRef) continue;
          const scope = grant.project !== undefined ? "project" : "group";
          const path = (grant.project ?? grant.group) as string;
          let projects: { id: number; path: string }[];
          if (scope === "project") {
            const locked = lock.projects[path];
            if (!locked) continue;
            projects = [{ id: locked.id, path }];
          } else {
            const locked = lock.groups[path];
            if (!locked) continue;
            if (!samples.has(path))
              samples.set(path, api.sampleGroupProjects(locked.id, path, GROUP_SAMPLE_SIZE));
            projects = await (samples.get(path) as Promise<GitLabProject[]>);
          }
          const patterns = [
            ...(grant.branches ?? []).map((pattern) => ({ kind: "branch" as const, pattern })),
            ...(grant.tags ?? []).map((pattern) => ({ kind: "tag" as const, pattern })),
          ];
          for (const { kind, pattern } of patterns) {
            let matched = false;
            for (const project of projects) {
              const refs = await protectedRefs(project, kind === "branch" ? "branches" : "tags");
              if (refs.some((ref) => patternsOverlap(pattern, ref.name))) {
                matched = true;
                break;
              }
            }
            if (!matched) {
              unprotected.push({
                at: `accounts[${a}].roles[${r}].allow[${g}]`,
                scope,
                path,
                kind,
                pattern,
                ...(scope === "group" ? { sampled: projects.length } : {}),
              });
            }
          }
        }
      }
    }
  } catch (error) {
    if (
      error instanceof GitLabApiError &&
      ["forbidden", "unauthorized", "not-found"].includes(error.failure)
    ) {
      return {
        unprotected,
        couldNotCheck: `${error.message}: GitLab lists protected branches and tags only to users with the Maintainer role on the project; use such a token to check them`,
      };
    }
    throw error;
  }
  return { unprotected };
}

/** One warning line per pattern that matches no protected ref. */
export function describeUnprotected(entry: UnprotectedPattern): string {
  const kinds = entry.kind === "branch" ? "branches" : "tags";
  const where =
    entry.scope === "project"
      ? `project ${entry.path}`
      : `group ${entry.path} (a sample of ${entry.sampled} of its most recently active projects${entry.sampled === 0 ? ": it has none this token can see" : ""})`;
  return (
    `warning: ${entry.at} (${entry.scope} ${entry.path}): ${entry.kind} pattern "${entry.pattern}" matches no protected ${entry.kind} of ${where}. ` +
    `The grant requires protected refs (protected: true, the default), so it lets no job in: protect the ${kinds} in GitLab ` +
    `(Settings > Repository > Protected ${kinds}), fix the pattern, or write protected: false on purpose`
  );
}
