/**
 * `npm run resolve` writes the GitLab IDs behind the config's paths into the lock beside it;
 * `npm run resolve -- --check` only compares, for pipelines. Arguments and files in, text and an exit
 * code out; the logic is in resolve.ts, the HTTP in api.ts.
 */
import "../runtime/entry"; // first: silences cdktf's DEP0044, enables the compile cache
import { existsSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { CONFIG_FILE_ENV, configPath, loadConfigWithoutLock } from "../config/load";
import { ConfigError } from "../config/rules";
import { terminalSafe } from "../terminal-text";
import type { Config } from "../config/schema";
import { GitLabApi, GitLabApiError, redact, type GitLabApiProps } from "./api";
import {
  checkProtectedRefs,
  describeApplyFailure,
  describeSubClaimReport,
  describeUnprotected,
  sampleGrantedGroups,
  subClaimReport,
  type SubClaimReport,
} from "./project-checks";
import {
  EMPTY_LOCK,
  LockFileError,
  lockPathFor,
  parseLock,
  readLockText,
  serializeLock,
  type GitLabLock,
} from "./lock";
import {
  compareLock,
  describeDrift,
  describeFailure,
  pathsNamedIn,
  resolvePaths,
  type Drift,
  type FailureContext,
} from "./resolve";

export const EXIT_CURRENT = 0;
export const EXIT_DRIFT = 1;
export const EXIT_ERROR = 2;

export const API_URL_ENV = "GITLAB_API_URL";
export const TOKEN_ENV = "GITLAB_TOKEN";

export const USAGE = `Usage: npm run resolve [-- --check | --apply-sub-claim]

Reads the ID of every project and group the config's grants name (and each group's descendant
groups) from GitLab's REST API, and writes them to the lock file beside the config
(gitlab-oidc.yaml -> gitlab-oidc.lock.yaml). Commit the lock and review its changes.

Options:
  --check      change nothing; exit 1 when the lock is not what resolve would write now
               (a path now names another project or group, no longer exists, a group has new
               or removed descendants, or the config names a path the lock does not have)
               and warn about grants whose branch or tag patterns match no protected
               branch or tag of the project (a sample of each granted group's projects)
  --apply-sub-claim
               set ci_id_token_sub_claim_components of the named projects whose setting
               differs from gitlab.subClaim (PUT /projects/:id; Maintainer, api scope).
               Without it, resolve only reports them with the API call to make
  -h, --help   this help

Environment:
  ${CONFIG_FILE_ENV}  the config file (default: gitlab-oidc.yaml)
  ${TOKEN_ENV}         a token with the read_api scope, sent as PRIVATE-TOKEN (public projects need none)
  ${API_URL_ENV}       the API root (default: gitlab.url + /api/v4), e.g. http://127.0.0.1:8080/api/v4

Exit codes: 0 the lock is current (or was written), 1 --check found drift,
2 usage, config or GitLab error (nothing was written).
`;

export interface ResolveIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

export interface ResolveCliOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly io?: ResolveIo;
  /** Timeouts, retries and sleep for the API client (tests). */
  readonly api?: Omit<GitLabApiProps, "baseUrl" | "token">;
  /**
   * The file operations the lock is written with (tests inject a failing disk).
   * @default node:fs
   */
  readonly files?: LockFileOps;
}

/** What writing the lock needs from the filesystem. */
export interface LockFileOps {
  readonly writeFileSync: (file: string, text: string) => void;
  readonly renameSync: (from: string, to: string) => void;
  readonly rmSync: (file: string, options: { force: true }) => void;
}

class UsageError extends Error {}

export async function runResolve(argv: readonly string[], options: ResolveCliOptions = {}): Promise<number> {
  const env = options.env ?? process.env;
  const token = env[TOKEN_ENV] || undefined;
  const raw = options.io ?? {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
  };
  // Nothing printed can carry the token, whatever a server or the runtime put in a message.
  // … nor a control character: GitLab's paths and messages reach the terminal escaped (terminalSafe).
  const out = (text: string) => raw.stdout(terminalSafe(redact(text, [token])) + "\n");
  const err = (text: string) => raw.stderr(terminalSafe(redact(text, [token])) + "\n");

  let check: boolean;
  let applySubClaim: boolean;
  try {
    ({ check, applySubClaim } = parseArguments(argv));
  } catch (error) {
    if (error === HELP) {
      raw.stdout(USAGE);
      return EXIT_CURRENT;
    }
    err(`${(error as Error).message}\n\n${USAGE}`);
    return EXIT_ERROR;
  }

  const configFile = configPath(env);
  const lockFile = lockPathFor(configFile);
  let config: Config;
  try {
    config = loadConfigWithoutLock(configFile);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    err(error.message);
    err(`${configFile} is not valid; fix it first. Nothing was ${check ? "checked" : "written"}.`);
    return EXIT_ERROR;
  }

  const apiUrl = env[API_URL_ENV] || `${config.gitlab.url}/api/v4`;
  let api: GitLabApi;
  try {
    api = new GitLabApi({
      onRetry: ({ what, status, waitMs, attempt, maxAttempts }) =>
        err(
          `GitLab answered ${status} for ${what}; waiting ${Math.ceil(waitMs / 1000)} s, then attempt ${attempt} of ${maxAttempts}…`,
        ),
      ...options.api,
      baseUrl: apiUrl,
      token,
    });
  } catch (error) {
    err(`${API_URL_ENV}: ${(error as Error).message}`);
    return EXIT_ERROR;
  }
  const context: FailureContext = { configFile, apiUrl: api.baseUrl, hasToken: token !== undefined };
  const paths = pathsNamedIn(config);
  const previous = readPreviousLock(lockFile);
  if (check && previous.problem) {
    err(`${previous.problem}`);
    return EXIT_DRIFT;
  }

  let resolution;
  try {
    resolution = await resolvePaths(api, paths);
  } catch (error) {
    if (!(error instanceof GitLabApiError)) throw error;
    err(describeFailure(error, context));
    err(`Nothing was ${check ? "checked" : "written"}${check ? "" : `; ${lockFile} is unchanged`}.`);
    return EXIT_ERROR;
  }
  // Refused, not warned: the lock would hold IDs under a spelling no token carries (see Resolution).
  if (resolution.misspelled.length > 0) {
    for (const problem of resolution.misspelled) err(problem);
    err(
      `${resolution.misspelled.length} path(s) spelled otherwise than GitLab spells them; fix ${configFile}. Nothing was ${check ? "checked" : "written"}${check ? "" : `; ${lockFile} is unchanged`}.`,
    );
    return EXIT_ERROR;
  }
  const sampled = await sampleGrantedGroups(api, resolution.lock);
  const subClaims = subClaimReport(config, [...resolution.projects, ...sampled.projects]);
  for (const line of describeSubClaimReport(subClaims, api.baseUrl, applySubClaim)) out(line);
  if (sampled.note) out(`note: ${sampled.note}`);

  if (check) {
    try {
      const refs = await checkProtectedRefs(api, config, resolution.lock, token !== undefined);
      for (const entry of refs.unprotected) out(describeUnprotected(entry));
      if (refs.couldNotCheck) out(`note: could not check protected branches and tags: ${refs.couldNotCheck}`);
    } catch (error) {
      if (!(error instanceof GitLabApiError)) throw error;
      out(`note: could not check protected branches and tags: ${error.message}`);
    }
    const drift = compareLock(previous.lock ?? EMPTY_LOCK, paths, resolution);
    if (drift.length > 0) {
      for (const entry of drift) err(describeDrift(entry));
      err(`${lockFile} is not current with GitLab and ${configFile}: ${drift.length} difference(s) above.`);
      return EXIT_DRIFT;
    }
    out(`${lockFile} is current: ${summary(resolution.lock)} (checked against ${api.baseUrl}).`);
    return EXIT_CURRENT;
  }

  if (resolution.failures.length > 0) {
    for (const failure of resolution.failures) err(describeFailure(failure.error, context, failure));
    err(
      `${resolution.failures.length} path(s) did not resolve; nothing was written, ${lockFile} is unchanged.`,
    );
    return EXIT_ERROR;
  }
  const text = serializeLock(resolution.lock);
  if (previous.text === text) {
    out(`${lockFile} is already current: ${summary(resolution.lock)}.`);
  } else {
    try {
      writeAtomically(lockFile, text, options.files ?? { writeFileSync, renameSync, rmSync });
    } catch (error) {
      err(`cannot write ${lockFile}: ${(error as Error).message}. It is unchanged.`);
      return EXIT_ERROR;
    }
    if (previous.problem) out(`replaced an unreadable lock (${previous.problem.split("\n")[0]})`);
    const changes = compareLock(previous.lock ?? EMPTY_LOCK, paths, resolution);
    for (const change of changes) out(describeChange(change));
    out(
      changes.length === 0
        ? `Wrote ${lockFile}: ${summary(resolution.lock)}; no changes to its IDs (rewritten in resolve's own format). Commit it.`
        : `Wrote ${lockFile}: ${summary(resolution.lock)}; ${changes.length} change(s) above: review them and commit it.`,
    );
  }
  // After the lock is safely written: GitLab's settings change only when asked.
  const applied = applySubClaim ? await applySubClaims(api, subClaims, err, out) : true;
  return applied ? EXIT_CURRENT : EXIT_ERROR;
}

/** --apply-sub-claim: sets each differing project's components; false when any could not be set. */
async function applySubClaims(
  api: GitLabApi,
  report: SubClaimReport,
  err: (text: string) => void,
  out: (text: string) => void,
): Promise<boolean> {
  let ok = true;
  for (const mismatch of report.mismatches) {
    if (mismatch.sampledFrom !== undefined) continue; // below a granted group: reported, never set
    try {
      const saved = await api.setSubClaimComponents(mismatch.id, mismatch.path, report.wanted);
      out(
        `set ${mismatch.path}: ci_id_token_sub_claim_components [${mismatch.actual.join(", ")}] -> [${(saved.subClaimComponents ?? report.wanted).join(", ")}]`,
      );
    } catch (error) {
      if (!(error instanceof GitLabApiError)) throw error;
      err(describeApplyFailure(mismatch.path, error));
      ok = false;
    }
  }
  if (report.unreadable.length > 0) {
    err(
      `not set: ${report.unreadable.join(", ")} (their setting is not visible to this token, which needs the Maintainer role to set it)`,
    );
    ok = false;
  }
  return ok;
}

const HELP = Symbol("help");

function parseArguments(argv: readonly string[]): { check: boolean; applySubClaim: boolean } {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        check: { type: "boolean" },
        "apply-sub-claim": { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) throw HELP;
  if (values.check && values["apply-sub-claim"]) {
    throw new UsageError("--check changes nothing; --apply-sub-claim changes GitLab: give one of them");
  }
  return { check: values.check === true, applySubClaim: values["apply-sub-claim"] === true };
}

function readPreviousLock(file: string): { text?: string; lock?: GitLabLock; problem?: string } {
  if (!existsSync(file)) return {};
  let text: string | undefined;
  try {
    text = readLockText(file);
    return { text, lock: parseLock(text, file) };
  } catch (error) {
    if (error instanceof LockFileError)
      return { ...(text !== undefined ? { text } : {}), problem: error.message };
    throw error;
  }
}

/** Temp file in the same directory, then rename: the lock is either the old one or the new one. */
function writeAtomically(file: string, text: string, fs: LockFileOps): void {
  const temp = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`);
  try {
    fs.writeFileSync(temp, text);
    fs.renameSync(temp, file);
  } catch (error) {
    fs.rmSync(temp, { force: true });
    throw error;
  }
}

function summary(lock: GitLabLock): string {
  const groups = Object.values(lock.groups);
  const descendants = groups.reduce((sum, group) => sum + group.descendantIds.length, 0);
  return `${Object.keys(lock.projects).length} project(s), ${groups.length} group(s) with ${descendants} descendant group(s)`;
}

/** What a resolve run changed in the lock, one line each, for the reviewer. */
function describeChange(change: Drift): string {
  switch (change.kind) {
    case "missing":
      return `+ ${change.what} ${change.path}`;
    case "unused":
      return `- ${change.what} ${change.path} (no grant names it any more)`;
    case "changed":
      return change.field === "id"
        ? `! ${change.what} ${change.path}: ID ${change.locked} -> ${change.current}: the path now names ANOTHER ${change.what}; make sure it is the one you mean to trust`
        : `~ project ${change.path}: namespace ID ${change.locked} -> ${change.current} (transferred)`;
    case "descendants":
      return `~ group ${change.path}: ${[
        ...change.added.map((group) => `+${group.path} (${group.id})`),
        ...change.removed.map((id) => `-${id}`),
      ].join(", ")}`;
    case "gone":
      return `- ${change.what} ${change.path}`;
  }
}

if (require.main === module) {
  runResolve(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
      console.error(terminalSafe(redact(text, [process.env[TOKEN_ENV]])));
      process.exitCode = EXIT_ERROR;
    },
  );
}
