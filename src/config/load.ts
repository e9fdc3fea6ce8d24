/**
 * Reading `gitlab-oidc.yaml`: YAML → schema → cross-field rules, collecting every problem with the
 * field path and the line it is on. Nothing is synthesized unless this returns a config.
 */
import { sha256Hex } from "../runtime/sha256";
import { existsSync, readFileSync } from "node:fs";
import { relative } from "node:path";
import type { z } from "zod/mini";
import {
  EMPTY_LOCK,
  LOCK_FIX,
  LockFileError,
  lockPathFor,
  parseLock,
  readLockFor,
  type GitLabLock,
} from "../gitlab/lock";
import {
  checkAllowEntry,
  checkConfig,
  ConfigError,
  NOT_IN_LOCK,
  unknownKeyMessage,
  type Problem,
} from "./rules";
import { adoptedPolicyProblems, UNKNOWN_POLICIES_ISSUE } from "./adoption";
import { configSchemas } from "./lazy-schema";
import type { AccountConfig, Config, ConfigFile } from "./schema";
import { markChecked } from "./checked";
import type { ParseCacheOptions } from "./parse-cache";
import { parseConfigCached } from "./cached-config";
import {
  readYaml,
  readYamlFast,
  fastReadable,
  sizeProblem,
  YAML_LIMITS,
  YamlProblemsError,
  type YamlRead,
} from "./yaml-document";

export { YAML_LIMITS } from "./yaml-document";

export const DEFAULT_CONFIG_FILE = "gitlab-oidc.yaml";
export const CONFIG_FILE_ENV = "GITLAB_OIDC_CONFIG";

/** The config file this run uses: `$GITLAB_OIDC_CONFIG`, else `gitlab-oidc.yaml` in the working directory. */
export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  return env[CONFIG_FILE_ENV] || DEFAULT_CONFIG_FILE;
}

/**
 * The digests of a config file and the lock beside it (`sha256:<hex>`, `absent` for no lock), as the
 * synth records them: explain compares them to tell an output synthesized from other inputs.
 */
export function sourceDigests(
  configFile: string,
  /** Their bytes, when the caller read them already (readRawInputs in src/synth-cache.ts). */
  read?: { readonly config: Uint8Array; readonly lock?: Uint8Array },
): Record<"config" | "lock", string> {
  const of = (bytes: Uint8Array) => `sha256:${sha256Hex(bytes)}`;
  if (read) return { config: of(read.config), lock: read.lock ? of(read.lock) : "absent" };
  const digest = (file: string) => (existsSync(file) ? of(readFileSync(file)) : "absent");
  return { config: digest(configFile), lock: digest(lockPathFor(configFile)) };
}

export interface LoadOptions {
  /**
   * Given the parsed config once its checks across accounts pass, the accounts that passed their own
   * checks before on the same inputs (checkedAccounts in src/synth-plan.ts): those are not checked
   * again. Only a config that passes is returned this way; one with any problem is read and checked
   * again in full, for the report with lines.
   * @default none: every account is checked
   */
  readonly checkedBefore?: (config: Config) => ReadonlySet<AccountConfig>;
  /**
   * The bytes of the config file and of its lock, when the caller read them already (readRawInputs in
   * src/synth-cache.ts: the run key is of these bytes, so the config must be too). A lock the caller
   * could not read is read here, for the loader's own report of what is wrong with it.
   * @default read from `path` and the lock beside it
   */
  readonly inputs?: { readonly config: Uint8Array; readonly lock?: Uint8Array };
  /**
   * Where each `accounts:` item's schema output is kept between runs, so that only the items whose
   * bytes changed are parsed and validated again (parseConfigCached in src/config/cached-config.ts). The
   * main job's option: the config is the same either way.
   * @default none: the whole text is parsed
   */
  readonly parseCache?: ParseCacheOptions;
}

/** Bytes decoded as UTF-8 in place (`Buffer.from(bytes)` would first copy a 3.6 MB config). */
const utf8Of = (bytes: Uint8Array): string =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8");

/**
 * Reads, parses and validates a config file and the lock beside it (`gitlab-oidc.lock.yaml`, see
 * src/gitlab/lock.ts); throws ConfigError listing every problem, the lock's among them.
 */
export function loadConfigFile(path: string, options: LoadOptions = {}): Config {
  let text: string;
  try {
    const bytes = options.inputs?.config;
    text = bytes ? utf8Of(bytes) : readFileSync(path, "utf8");
  } catch (error) {
    const reason =
      (error as NodeJS.ErrnoException).code === "ENOENT" ? "file not found" : (error as Error).message;
    throw new ConfigError(
      [{ path: [], message: `cannot read ${path}: ${reason} (set ${CONFIG_FILE_ENV} to use another file)` }],
      path,
    );
  }
  const shown = relative(process.cwd(), path);
  const source = shown && !shown.startsWith("..") ? shown : path;
  let lock: GitLabLock | undefined;
  try {
    const lockBytes = options.inputs?.lock;
    lock = lockBytes ? parseLock(utf8Of(lockBytes), lockPathFor(path)) : readLockFor(path);
  } catch (error) {
    if (!(error instanceof LockFileError)) throw error;
    // One report: the lock's problems and the config's, but not the config's "not in the lock", which
    // a broken lock causes.
    const lockFile = relative(process.cwd(), lockPathFor(path)) || lockPathFor(path);
    const lockProblems: Problem[] = [...error.problems, { path: [], message: LOCK_FIX }].map((problem) => ({
      ...problem,
      file: lockFile,
    }));
    let configProblems: readonly Problem[] = [];
    try {
      parseConfig(text, source, EMPTY_LOCK);
    } catch (configError) {
      if (!(configError instanceof ConfigError)) throw configError;
      configProblems = configError.problems.filter((problem) => !problem.message.includes(NOT_IN_LOCK));
    }
    throw new ConfigError([...configProblems, ...lockProblems], source);
  }
  return parseConfig(text, source, lock, options);
}

/**
 * Parses and validates config text; `source` names the file in messages. `lock` holds the IDs behind
 * its paths (none: every grant that needs an ID is refused, naming `npm run resolve`).
 */
export function parseConfig(
  text: string,
  source = DEFAULT_CONFIG_FILE,
  lock?: GitLabLock,
  options: LoadOptions = {},
): Config {
  const huge = sizeProblem(text);
  if (huge) throw new ConfigError([huge], source);
  return parseValidConfigFast(text, source, lock, options) ?? parseConfigWithPositions(text, source, lock);
}

const withLock = (config: ConfigFile, lock: GitLabLock | undefined): Config =>
  lock ? { ...config, lock } : config;

/**
 * A config that the fast reader reads and that validates cleanly is done; anything else is read again
 * by `yaml`, whose Document knows every line, and reported from there.
 */
function parseValidConfigFast(
  text: string,
  source: string,
  lock: GitLabLock | undefined,
  options: LoadOptions,
): Config | undefined {
  if (options.parseCache) {
    if (!fastReadable(text)) return undefined;
    const cached = parseConfigCached(text, options.parseCache);
    if (cached) return checkedConfig(withLock(cached, lock), options);
  }
  let data: unknown;
  try {
    data = readYamlFast(text);
  } catch (error) {
    if (error instanceof YamlProblemsError) throw new ConfigError(error.problems, source);
    throw error;
  }
  if (data === undefined) return undefined;
  const parsed = configSchemas().configSchema.safeParse(data);
  if (!parsed.success || adoptedPolicyProblems(data).length > 0) return undefined;
  return checkedConfig(withLock(parsed.data, lock), options);
}

/** The config when it passes checkConfig (marked as checked: src/config/checked.ts), else undefined. */
function checkedConfig(config: Config, options: LoadOptions): Config | undefined {
  const checkedBefore = options.checkedBefore;
  const problems = checkConfig(config, checkedBefore && (() => checkedBefore(config)));
  return problems.length === 0 ? markChecked(config) : undefined;
}

/** The authoritative read: every problem, with its line and column. */
export function parseConfigWithPositions(
  text: string,
  source = DEFAULT_CONFIG_FILE,
  lock?: GitLabLock,
): Config {
  let read: YamlRead;
  try {
    read = readYaml(text);
  } catch (error) {
    if (error instanceof YamlProblemsError) throw new ConfigError(error.problems, source);
    throw error;
  }
  const { data } = read;
  const located = (problems: Problem[]) =>
    new ConfigError(
      problems
        .map((problem) => ({ ...problem, ...read.locate(problem.path) }))
        .sort((a, b) => (a.line ?? 0) - (b.line ?? 0)),
      source,
    );
  const parsed = configSchemas().configSchema.safeParse(data, { reportInput: true });
  if (!parsed.success) {
    // The cross-field rules need a well-formed config, but grants stand alone: check those that parse,
    // so the most common mistakes are reported in the same run as the shape errors.
    throw located([
      ...parsed.error.issues
        .filter((issue) => issue.message !== UNKNOWN_POLICIES_ISSUE)
        .flatMap(problemsFromIssue),
      ...adoptedPolicyProblems(data),
      ...standaloneGrantProblems(data),
    ]);
  }
  const config = withLock(parsed.data, lock);
  const problems = [...adoptedPolicyProblems(data), ...checkConfig(config)];
  if (problems.length > 0) throw located(problems);
  return markChecked(config);
}

function standaloneGrantProblems(data: unknown): Problem[] {
  const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
  return list((data as { accounts?: unknown }).accounts).flatMap((account, a) =>
    list((account as { roles?: unknown })?.roles).flatMap((role, r) =>
      list((role as { allow?: unknown })?.allow).flatMap((entry, e) => {
        const grant = configSchemas().allowEntrySchema.safeParse(entry);
        return grant.success ? checkAllowEntry(grant.data, ["accounts", a, "roles", r, "allow", e]) : [];
      }),
    ),
  );
}

function problemsFromIssue(issue: z.core.$ZodIssue): Problem[] {
  const path = issue.path.map((segment) => (typeof segment === "symbol" ? String(segment) : segment));
  if (issue.code === "unrecognized_keys") {
    const known = knownKeysAt(path);
    return issue.keys.map((key) => ({ path: [...path, key], message: unknownKeyMessage(key, known) }));
  }
  if (issue.code === "invalid_type" && issue.expected === "array" && isScalarValue(issue.input)) {
    // `tags: v*` for `tags: ["v*"]`: a list of one was meant.
    const key = String(path[path.length - 1] ?? "value");
    return [{ path, message: `${issue.message}: write a list: ${key}: [${JSON.stringify(issue.input)}]` }];
  }
  if (issue.code === "invalid_type" && issue.input === undefined) {
    return [{ path, message: `missing: ${String(path[path.length - 1] ?? "value")} is required` }];
  }
  return [{ path, message: issue.message }];
}

function isScalarValue(value: unknown): value is string | number | boolean {
  return typeof value === "string" || typeof value === "number" || typeof value === "boolean";
}

/** The keys the schema allows at `path`, for "did you mean" suggestions. */
function knownKeysAt(path: readonly PropertyKey[]): string[] {
  let schemas: unknown[] = [configSchemas().configSchema];
  for (const segment of path) {
    schemas = schemas.flatMap(unwrap).flatMap((schema) => {
      const def = (schema as { _zod: { def: Record<string, unknown> } })._zod.def;
      if (typeof segment === "number") return def.type === "array" ? [def.element] : [];
      const shape = def.shape as Record<string, unknown>;
      // Own keys only: a user's key such as "__proto__" or "constructor" is not a schema.
      return def.type === "object" && Object.hasOwn(shape, segment) ? [shape[segment as string]] : [];
    });
  }
  return schemas.flatMap(unwrap).flatMap((schema) => {
    const def = (schema as { _zod: { def: Record<string, unknown> } })._zod.def;
    return def.type === "object" ? Object.keys(def.shape as object) : [];
  });
}

/** Looks through optional/default wrappers and into each member of a union. */
function unwrap(schema: unknown): unknown[] {
  const def = (schema as { _zod: { def: Record<string, unknown> } })._zod.def;
  if (def.innerType) return unwrap(def.innerType);
  if (def.type === "union") return (def.options as unknown[]).flatMap(unwrap);
  return [schema];
}

/**
 * The config as `npm run resolve` needs it: the schema and each grant's own rules, but no rule that
 * needs the lock (or spans fields), because running resolve is how a missing or stale lock gets fixed.
 * It reads with the same limits as loadConfigFile; anything wrong is reported by loadConfigFile, with
 * lines.
 */
export function loadConfigWithoutLock(path: string): Config {
  const data = readDataWithinLimits(path);
  if (data !== undefined) {
    const parsed = configSchemas().configSchema.safeParse(data);
    if (parsed.success && standaloneGrantProblems(data).length === 0) return parsed.data;
  }
  return loadConfigFile(path);
}

/** The file's data by the fast or the careful reader, under YAML_LIMITS; undefined on any problem. */
function readDataWithinLimits(path: string): unknown {
  try {
    const text = readFileSync(path, "utf8");
    if (Buffer.byteLength(text, "utf8") > YAML_LIMITS.maxBytes) return undefined;
    return readYamlFast(text) ?? readYaml(text).data;
  } catch {
    return undefined; // unreadable, too deep, too many aliases: the full read says which, and where
  }
}
