/**
 * `gitlab-oidc.lock.yaml`: the immutable GitLab IDs behind the paths the config names, written by
 * `npm run resolve` and committed beside the config, so a reviewer sees when a path starts meaning
 * another project. The trust policies pin these IDs (gitlab.com) so a recycled path is not trusted.
 *
 * ```yaml
 * projects:
 *   acme/web: { id: 1001, namespaceId: 2001 }
 * groups:
 *   acme/platform: { id: 2002, descendantIds: [2003, 2004] }
 * ```
 */
import { existsSync, readFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { load } from "js-yaml";
import { z } from "zod";

const gitlabId = z.number().int().positive();

const projectEntry = z.strictObject({ id: gitlabId, namespaceId: gitlabId });
const groupEntry = z.strictObject({ id: gitlabId, descendantIds: z.array(gitlabId).default([]) });

export const lockSchema = z.strictObject({
  projects: z.record(z.string(), projectEntry).default({}),
  groups: z.record(z.string(), groupEntry).default({}),
});

/** Project and group IDs by path, as GitLab's REST API reported them when `npm run resolve` ran. */
export type GitLabLock = z.output<typeof lockSchema>;
export type LockedProject = GitLabLock["projects"][string];
export type LockedGroup = GitLabLock["groups"][string];

export const EMPTY_LOCK: GitLabLock = { projects: {}, groups: {} };

/**
 * The lock's entry for a project path; undefined when it has none. Own keys only: a path from the config
 * such as `constructor` or `__proto__` is a path, never a member of Object.prototype.
 */
export function lockedProject(lock: GitLabLock | undefined, path: string): LockedProject | undefined {
  return lock !== undefined && Object.hasOwn(lock.projects, path) ? lock.projects[path] : undefined;
}

/** The lock's entry for a group path; undefined when it has none (own keys only, as lockedProject). */
export function lockedGroup(lock: GitLabLock | undefined, path: string): LockedGroup | undefined {
  return lock !== undefined && Object.hasOwn(lock.groups, path) ? lock.groups[path] : undefined;
}

/** `gitlab-oidc.yaml` → `gitlab-oidc.lock.yaml`, `path/x.yml` → `path/x.lock.yaml`: beside the config. */
export function lockPathFor(configFile: string): string {
  const name = basename(configFile).replace(/\.ya?ml$/i, "");
  return join(dirname(configFile), `${name}.lock.yaml`);
}

/** Raised for a lock file that is not valid YAML or not of the lock's shape. */
export class LockFileError extends Error {
  constructor(
    readonly file: string,
    readonly problems: readonly string[],
  ) {
    super(problems.map((problem) => `${file}: ${problem}`).join("\n"));
    this.name = "LockFileError";
  }
}

/** Parses a lock file's text; `file` names it in errors. */
export function parseLock(text: string, file: string): GitLabLock {
  let raw: unknown;
  try {
    raw = load(text, { json: false }) ?? {};
  } catch (error) {
    const reason = error instanceof Error ? error.message.split("\n")[0] : String(error);
    throw new LockFileError(file, [`not valid YAML (${reason}); run npm run resolve to rewrite it`]);
  }
  // Checked entry by entry into maps without a prototype, not through a zod record: GitLab paths may
  // be named `__proto__` or `constructor`, which a plain object would drop or misread.
  const problem = (message: string) =>
    new LockFileError(file, [`${message}; run npm run resolve to rewrite it`]);
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw problem("(top level): expected a map with projects and groups");
  }
  const unknown = Object.keys(raw).filter((key) => key !== "projects" && key !== "groups");
  if (unknown.length > 0) throw problem(`(top level): unknown key "${unknown[0]}"`);
  const sections = raw as { projects?: unknown; groups?: unknown };
  return {
    projects: ownEntries(sections.projects, projectEntry, "projects", file),
    groups: ownEntries(sections.groups, groupEntry, "groups", file),
  };
}

/** A lock section as a map without a prototype, each entry checked by `entry`. */
function ownEntries<T>(section: unknown, entry: z.ZodType<T>, name: string, file: string): Record<string, T> {
  const result = Object.create(null) as Record<string, T>;
  if (section === undefined || section === null) return result;
  if (typeof section !== "object" || Array.isArray(section)) {
    throw new LockFileError(file, [
      `${name}: expected a map of path → entry; run npm run resolve to rewrite it`,
    ]);
  }
  for (const [path, value] of Object.entries(section)) {
    const parsed = entry.safeParse(value);
    if (!parsed.success) {
      throw new LockFileError(
        file,
        parsed.error.issues.map(
          (issue) =>
            `${[name, path, ...issue.path.map(String)].join(".")}: ${issue.message}; run npm run resolve to rewrite it`,
        ),
      );
    }
    result[path] = parsed.data;
  }
  return result;
}

/** Reads the lock beside `configFile`; undefined when there is none. */
export function readLockFor(configFile: string): GitLabLock | undefined {
  const file = lockPathFor(configFile);
  if (!existsSync(file)) return undefined;
  return parseLock(readFileSync(file, "utf8"), file);
}

/** Deterministic text: paths sorted, IDs as numbers, one entry a line, so diffs show exactly what moved. */
export function serializeLock(lock: GitLabLock): string {
  const sorted = <T>(record: Record<string, T>) =>
    Object.keys(record)
      .sort()
      .map((key) => [key, record[key]] as const);
  const quote = (path: string) => JSON.stringify(path);
  const lines = [
    "# Generated by `npm run resolve` from GitLab's REST API: the IDs behind the paths in the config.",
    "# Commit it and review changes like terraform/: a changed ID means a path now names another project.",
    "projects:" + (Object.keys(lock.projects).length === 0 ? " {}" : ""),
    ...sorted(lock.projects).map(
      ([path, project]) => `  ${quote(path)}: { id: ${project.id}, namespaceId: ${project.namespaceId} }`,
    ),
    "groups:" + (Object.keys(lock.groups).length === 0 ? " {}" : ""),
    ...sorted(lock.groups).map(
      ([path, group]) =>
        `  ${quote(path)}: { id: ${group.id}, descendantIds: [${[...group.descendantIds]
          .sort((a, b) => a - b)
          .join(", ")}] }`,
    ),
  ];
  return lines.join("\n") + "\n";
}
