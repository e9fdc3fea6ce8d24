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
import { existsSync, readFileSync, statSync } from "node:fs";
import { z } from "../config/zod";
import { readYaml, readYamlFast, YamlProblemsError } from "../config/yaml-document";
import { lockPathFor } from "../layout";

const gitlabId = z.number().check(z.int(), z.positive());

const projectEntry = z.strictObject({ id: gitlabId, namespaceId: gitlabId });
const groupEntry = z.strictObject({ id: gitlabId, descendantIds: z._default(z.array(gitlabId), []) });

export const lockSchema = z.strictObject({
  projects: z._default(z.record(z.string(), projectEntry), {}),
  groups: z._default(z.record(z.string(), groupEntry), {}),
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

// In src/layout.ts with the other paths beside a config (the main job's up-to-date check loads no zod).
export { lockPathFor };

/** One problem in a lock file: where (field path, line) and what is wrong. */
export interface LockProblem {
  readonly path: readonly (string | number)[];
  readonly message: string;
  readonly line?: number;
  readonly col?: number;
}

/** How to fix a lock, said once under its problems. */
export const LOCK_FIX =
  'fix the lock: npm run resolve rewrites it from GitLab\'s API; without the API, write it by hand (docs/resolve.md, "Writing the lock by hand")';

/** Raised for a lock file that cannot be read, is not valid YAML, or not of the lock's shape. */
export class LockFileError extends Error {
  constructor(
    readonly file: string,
    readonly problems: readonly LockProblem[],
  ) {
    super(
      [...problems, { path: [], message: LOCK_FIX }]
        .map((problem: LockProblem) => {
          const where = problem.line ? `${file}:${problem.line}:${problem.col ?? 1}` : file;
          const field = problem.path.length ? `${problem.path.map(String).join(".")}: ` : "";
          return `${where}: ${field}${problem.message}`;
        })
        .join("\n"),
    );
    this.name = "LockFileError";
  }
}

const LOCK_READ = { nameKeysUnder: ["projects", "groups"] } as const;

/** Parses a lock file's text with the config's limits; `file` names it in errors, every problem at once. */
export function parseLock(text: string, file: string): GitLabLock {
  const careful = () => readYaml(text, LOCK_READ, "a lock");
  try {
    const fast = readYamlFast(text);
    const read = fast === undefined ? careful() : undefined;
    const problems: LockProblem[] = [];
    const lock = lockOf(read ? read.data : fast, problems);
    if (lock) return lock;
    // The fast reader has no lines: read again carefully to place each problem.
    const { locate } = read ?? careful();
    throw new LockFileError(
      file,
      problems
        .map((problem) => ({ ...problem, ...locate(problem.path) }))
        .sort((a, b) => (a.line ?? 0) - (b.line ?? 0)),
    );
  } catch (error) {
    if (error instanceof YamlProblemsError) throw new LockFileError(file, error.problems);
    throw error;
  }
}

/** The lock in `data`, or undefined with `problems` filled (each entry checked, all reported). */
function lockOf(data: unknown, problems: LockProblem[]): GitLabLock | undefined {
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    problems.push({ path: [], message: "expected a map with projects and groups" });
    return undefined;
  }
  for (const key of Object.keys(data).filter((key) => key !== "projects" && key !== "groups")) {
    problems.push({ path: [key], message: `unknown key "${key}" (a lock has projects and groups)` });
  }
  const sections = data as { projects?: unknown; groups?: unknown };
  const lock = {
    projects: ownEntries(sections.projects, projectEntry, "projects", problems),
    groups: ownEntries(sections.groups, groupEntry, "groups", problems),
  };
  return problems.length === 0 ? lock : undefined;
}

const ENTRY_EXAMPLE = {
  projects: '"acme/web": { id: 1001, namespaceId: 2001 }',
  groups: '"acme/platform": { id: 2002, descendantIds: [2003] }',
} as const;

/**
 * A lock section as a map without a prototype, each entry checked by `entry`: not through a zod record,
 * because GitLab paths may be named `__proto__` or `constructor`, which a plain object would drop or misread.
 */
function ownEntries<T>(
  section: unknown,
  entry: z.ZodMiniType<T>,
  name: "projects" | "groups",
  problems: LockProblem[],
): Record<string, T> {
  const result = Object.create(null) as Record<string, T>;
  if (section === undefined || section === null) return result;
  if (typeof section !== "object" || Array.isArray(section)) {
    problems.push({
      path: [name],
      message: `expected a map of path → entry, such as ${ENTRY_EXAMPLE[name]}`,
    });
    return result;
  }
  for (const [path, value] of Object.entries(section)) {
    const plain = plainEntry(value, name);
    if (plain !== undefined) {
      result[path] = plain as T;
      continue;
    }
    const parsed = entry.safeParse(value);
    if (parsed.success) {
      result[path] = parsed.data;
      continue;
    }
    for (const issue of parsed.error.issues) {
      problems.push({
        path: [
          name,
          path,
          ...issue.path.map((segment) => (typeof segment === "number" ? segment : String(segment))),
        ],
        message: `${issue.message} (an entry reads ${ENTRY_EXAMPLE[name]})`,
      });
    }
  }
  return result;
}

const isGitLabId = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) > 0;

/**
 * The entry zod would make of `value` when it is the common case, a plain map of exactly the entry's
 * keys with positive integer IDs (a lock of thousands of entries is read on every synth; zod costs
 * ~0.1 ms an entry); undefined for anything else, which zod then judges and reports.
 */
function plainEntry(value: unknown, section: "projects" | "groups"): LockedProject | LockedGroup | undefined {
  if (typeof value !== "object" || value === null || Object.getPrototypeOf(value) !== Object.prototype) {
    return undefined;
  }
  const keys = Object.keys(value);
  const entry = value as Record<string, unknown>;
  if (!isGitLabId(entry.id)) return undefined;
  if (section === "projects") {
    // In the schema's key order, as zod writes its output.
    if (keys.length !== 2 || !isGitLabId(entry.namespaceId)) return undefined;
    return { id: entry.id, namespaceId: entry.namespaceId };
  }
  const descendants = entry.descendantIds;
  if (descendants === undefined) return keys.length === 1 ? { id: entry.id, descendantIds: [] } : undefined;
  if (keys.length !== 2 || !Array.isArray(descendants)) return undefined;
  for (let i = 0; i < descendants.length; i++) if (!isGitLabId(descendants[i])) return undefined;
  return { id: entry.id, descendantIds: [...descendants] };
}

/** Reads the lock beside `configFile`; undefined when there is none. */
export function readLockFor(configFile: string): GitLabLock | undefined {
  const file = lockPathFor(configFile);
  if (!existsSync(file)) return undefined;
  return parseLock(readLockText(file), file);
}

/** A lock file's text; a directory or an unreadable file is a LockFileError, not an EISDIR trace. */
export function readLockText(file: string): string {
  const refuse = (message: string) => new LockFileError(file, [{ path: [], message }]);
  let stats;
  try {
    stats = statSync(file);
  } catch (error) {
    throw refuse(`cannot read it (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  if (stats.isDirectory()) throw refuse("is a directory, not a lock file; move it away");
  if (!stats.isFile()) throw refuse("is not a regular file");
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    throw refuse(`cannot read it (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
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
