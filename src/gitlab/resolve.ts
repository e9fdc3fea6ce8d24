/**
 * `npm run resolve`'s logic: which paths the config names, what GitLab says they are now, and how that
 * differs from the lock. No files and no printing here: the CLI does those.
 */
import type { Config } from "../config/schema";
import { GitLabApiError, type GitLabApi, type GitLabGroup, type GitLabProject } from "./api";
import type { GitLabLock } from "./lock";

/** The project and group paths the config's grants name, sorted and without duplicates. */
export interface NamedPaths {
  readonly projects: readonly string[];
  readonly groups: readonly string[];
}

export function pathsNamedIn(config: Config): NamedPaths {
  const projects = new Set<string>();
  const groups = new Set<string>();
  for (const account of config.accounts) {
    for (const role of account.roles) {
      for (const grant of role.allow) {
        if (grant.project !== undefined) projects.add(grant.project);
        if (grant.group !== undefined) groups.add(grant.group);
      }
    }
  }
  return { projects: [...projects].sort(), groups: [...groups].sort() };
}

/** The reads resolve needs (GitLabApi, or a stand-in in tests). */
export type GitLabReader = Pick<GitLabApi, "getProject" | "getGroup" | "listDescendantGroups">;

/** A path GitLab does not know (any more) under that name: 404, or a redirect to where it moved. */
export interface PathFailure {
  readonly kind: "project" | "group";
  readonly path: string;
  readonly error: GitLabApiError;
}

export interface Resolution {
  /** IDs for every path that resolved. */
  readonly lock: GitLabLock;
  /** Each group's descendant groups with their paths, to name new ones in messages. */
  readonly descendants: Readonly<Record<string, readonly GitLabGroup[]>>;
  /** Paths that no longer resolve; the lock is only complete when this is empty. */
  readonly failures: readonly PathFailure[];
  /** The named projects as GitLab answered (their settings, for the sub claim report). */
  readonly projects: readonly GitLabProject[];
  /**
   * Paths the config spells otherwise than GitLab (case): tokens carry GitLab's spelling and IAM
   * compares case-sensitively, so a lock under the config's spelling would pin a grant that never
   * matches. They stop the lock from being written.
   */
  readonly misspelled: readonly string[];
}

/** Failures that concern one path; every other failure (token, rate limit, network) stops the run. */
const PER_PATH_FAILURES = new Set(["not-found", "moved"]);

/**
 * Asks GitLab for every path, one after the other. A failure that would repeat for every
 * path (401, 403, 429, network…) is thrown at once; 404s and moved paths are collected so one run
 * names all of them.
 */
export async function resolvePaths(api: GitLabReader, paths: NamedPaths): Promise<Resolution> {
  // Without a prototype: a GitLab path may be named `__proto__`.
  const lock: GitLabLock = { projects: Object.create(null), groups: Object.create(null) };
  const descendants: Record<string, GitLabGroup[]> = {};
  const failures: PathFailure[] = [];
  const projects: GitLabProject[] = [];
  const misspelled: string[] = [];

  const spelling = (kind: "project" | "group", asked: string, actual: string) => {
    if (actual !== asked) {
      misspelled.push(
        `${kind} ${asked}: GitLab spells it ${JSON.stringify(actual)}. Tokens carry GitLab's spelling and IAM compares case-sensitively, so the grant would never match: write ${JSON.stringify(actual)} in the config.`,
      );
    }
  };
  const tasks: (() => Promise<void>)[] = [
    ...paths.projects.map((path) => async () => {
      const project = await api.getProject(path);
      spelling("project", path, project.path);
      lock.projects[path] = { id: project.id, namespaceId: project.namespaceId };
      projects.push(project);
    }),
    ...paths.groups.map((path) => async () => {
      const group = await api.getGroup(path);
      spelling("group", path, group.path);
      const below = await api.listDescendantGroups(group.id, path);
      descendants[path] = below;
      lock.groups[path] = {
        id: group.id,
        descendantIds: [...new Set(below.map((g) => g.id))].sort((a, b) => a - b),
      };
    }),
  ];
  const kinds = [
    ...paths.projects.map(() => "project" as const),
    ...paths.groups.map(() => "group" as const),
  ];
  const names = [...paths.projects, ...paths.groups];
  // One request at a time: gentle on GitLab's rate limits, and a 429's Retry-After pauses everything.
  for (const [index, task] of tasks.entries()) {
    try {
      await task();
    } catch (error) {
      if (!(error instanceof GitLabApiError && PER_PATH_FAILURES.has(error.failure))) throw error;
      failures.push({ kind: kinds[index], path: names[index], error });
    }
  }

  failures.sort((a, b) => a.kind.localeCompare(b.kind) || a.path.localeCompare(b.path));
  misspelled.sort();
  return { lock, descendants, failures, misspelled, projects };
}

/** One way the lock no longer says what GitLab and the config say. */
export type Drift =
  | { readonly kind: "missing"; readonly what: "project" | "group"; readonly path: string }
  | { readonly kind: "unused"; readonly what: "project" | "group"; readonly path: string }
  | {
      readonly kind: "changed";
      readonly what: "project" | "group";
      readonly path: string;
      readonly field: "id" | "namespaceId";
      readonly locked: number;
      readonly current: number;
    }
  | {
      readonly kind: "gone";
      readonly what: "project" | "group";
      readonly path: string;
      readonly reason: string;
    }
  | {
      readonly kind: "descendants";
      readonly path: string;
      readonly added: readonly GitLabGroup[];
      readonly removed: readonly number[];
    };

/**
 * Everything that differs between the committed lock and what resolve would write now. Empty means
 * the lock is current: `npm run resolve` would write the same file.
 */
export function compareLock(locked: GitLabLock, paths: NamedPaths, now: Resolution): Drift[] {
  const drift: Drift[] = [];
  const gone = new Map(now.failures.map((failure) => [`${failure.kind} ${failure.path}`, failure]));
  /** A path GitLab no longer resolves, or one the lock lacks; undefined when both sides have it. */
  const unresolved = (what: "project" | "group", path: string, locked: unknown): Drift | undefined => {
    const failure = gone.get(`${what} ${path}`);
    if (failure) return { kind: "gone", what, path, reason: failure.error.message };
    return locked ? undefined : { kind: "missing", what, path };
  };

  for (const path of paths.projects) {
    const before = locked.projects[path];
    const after = now.lock.projects[path];
    const missing = unresolved("project", path, before);
    if (missing) drift.push(missing);
    else if (before && after) {
      // A new ID is another project: its namespace is news only for the same project.
      const field = after.id !== before.id ? "id" : "namespaceId";
      if (after[field] !== before[field]) {
        drift.push({
          kind: "changed",
          what: "project",
          path,
          field,
          locked: before[field],
          current: after[field],
        });
      }
    }
  }
  for (const path of paths.groups) {
    const before = locked.groups[path];
    const after = now.lock.groups[path];
    const missing = unresolved("group", path, before);
    if (missing) drift.push(missing);
    else if (before && after) {
      if (after.id !== before.id) {
        drift.push({
          kind: "changed",
          what: "group",
          path,
          field: "id",
          locked: before.id,
          current: after.id,
        });
        continue; // another group: its descendants are another group's too
      }
      const lockedIds = new Set(before.descendantIds);
      const currentIds = new Set(after.descendantIds);
      const added = (now.descendants[path] ?? []).filter((group) => !lockedIds.has(group.id));
      const removed = before.descendantIds.filter((id) => !currentIds.has(id));
      if (added.length > 0 || removed.length > 0) drift.push({ kind: "descendants", path, added, removed });
    }
  }
  const named = { project: new Set(paths.projects), group: new Set(paths.groups) };
  for (const path of Object.keys(locked.projects).sort()) {
    if (!named.project.has(path)) drift.push({ kind: "unused", what: "project", path });
  }
  for (const path of Object.keys(locked.groups).sort()) {
    if (!named.group.has(path)) drift.push({ kind: "unused", what: "group", path });
  }
  return drift;
}

/** One line per drift, naming the path, what changed and what to do. */
export function describeDrift(drift: Drift): string {
  switch (drift.kind) {
    case "missing":
      return `${drift.what} ${drift.path}: named in the config but not in the lock; run npm run resolve and review the new entry.`;
    case "unused":
      return `${drift.what} ${drift.path}: in the lock but no grant names it any more; run npm run resolve to drop it.`;
    case "changed":
      return drift.field === "id"
        ? `${drift.what} ${drift.path}: the lock says ID ${drift.locked}, GitLab now says ID ${drift.current}: the path names another ${drift.what} (deleted and re-created, or renamed and the path reused). Find out who owns it now before you run npm run resolve and commit the new ID.`
        : `${drift.what} ${drift.path}: namespace ID was ${drift.locked}, now ${drift.current}: the project moved to another namespace (transferred). Check the move was intended, then run npm run resolve.`;
    case "gone":
      return `${drift.what} ${drift.path}: no longer resolves (${drift.reason}): it was deleted, renamed or transferred. Update or remove the grant, then run npm run resolve.`;
    case "descendants": {
      const parts = [
        drift.added.length > 0
          ? `new descendant groups ${drift.added.map((g) => `${g.path} (ID ${g.id})`).join(", ")}`
          : "",
        drift.removed.length > 0 ? `descendant group IDs gone: ${drift.removed.join(", ")}` : "",
      ].filter(Boolean);
      return `group ${drift.path}: ${parts.join("; ")}. Check they belong to the grant, then run npm run resolve.`;
    }
  }
}

export interface FailureContext {
  readonly configFile: string;
  readonly apiUrl: string;
  readonly hasToken: boolean;
}

/** A failure as the user should read it: what happened to which path, and the fix. */
export function describeFailure(error: GitLabApiError, context: FailureContext, path?: PathFailure): string {
  const tokenFix = context.hasToken
    ? `GITLAB_TOKEN is set but GitLab refuses it: it may be expired, revoked or for another instance. Set GITLAB_TOKEN to a token with the read_api scope for ${context.apiUrl}.`
    : `Set GITLAB_TOKEN to a token with the read_api scope (personal, group or project access token).`;
  switch (error.failure) {
    case "unauthorized":
      return `${error.message}. ${tokenFix}`;
    case "forbidden":
      return `${error.message}. The token lacks the read_api scope or the role to read this; use a token with read_api of a user who can see every path in ${context.configFile}.`;
    case "not-found": {
      const namespaceHint =
        path?.kind === "group"
          ? " A user's personal namespace is not a group: grant its projects one by one."
          : "";
      const visibility = context.hasToken
        ? "or the token's user cannot see it"
        : "or it is private or internal and GITLAB_TOKEN is not set (set it to a read_api token)";
      return `${error.message}: no such path, ${visibility}. Check the path in ${context.configFile}: it may have been deleted, renamed or transferred.${namespaceHint}`;
    }
    case "moved":
      return `${error.message}: it was renamed or transferred, and GitLab only redirects the old path until someone takes it. Write the new path in ${context.configFile}, then run npm run resolve.`;
    case "rate-limited":
      return `${error.message}. Try again in a few minutes${context.hasToken ? "" : ", or set GITLAB_TOKEN (authenticated requests get a higher limit)"}.`;
    case "server":
      return `${error.message}. Try again later; if it persists, check that ${context.apiUrl} is GitLab's API root (gitlab.url in ${context.configFile}, or GITLAB_API_URL).`;
    case "network":
    case "timeout":
      return `${error.message}. Check gitlab.url in ${context.configFile} (or GITLAB_API_URL, now ${context.apiUrl}), the network and any proxy.`;
  }
}
