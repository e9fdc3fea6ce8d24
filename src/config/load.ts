/**
 * Reading `gitlab-oidc.yaml`: YAML → schema → cross-field rules, collecting every problem with the
 * field path and the line it is on. Nothing is synthesized unless this returns a config.
 */
import { CORE_SCHEMA, load as loadYaml, YAMLException, type LoadOptions } from "js-yaml";
import { readFileSync } from "node:fs";
import { relative } from "node:path";
import {
  isAlias,
  isCollection,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  type Document,
  type Node,
  type YAMLMap,
} from "yaml";
import type { z } from "zod";
import { LockFileError, lockPathFor, readLockFor, type GitLabLock } from "../gitlab/lock";
import { adoptedPolicyProblems, UNKNOWN_POLICIES_ISSUE } from "./adoption";
import { checkAllowEntry, checkConfig, ConfigError, unknownKeyMessage, type Problem } from "./rules";
import { allowEntrySchema, configSchema, type Config } from "./schema";

export const DEFAULT_CONFIG_FILE = "gitlab-oidc.yaml";
export const CONFIG_FILE_ENV = "GITLAB_OIDC_CONFIG";

/**
 * Limits that refuse a hostile document before it costs time or memory. A 5,000-role config is ~3.6 MB
 * and nests ~12 levels; YAML aliases are rare in configs and expand without bound ("billion laughs").
 */
export const YAML_LIMITS = { maxBytes: 16 * 1024 * 1024, maxDepth: 64, maxAliases: 100 } as const;

/** The config file this run uses: `$GITLAB_OIDC_CONFIG`, else `gitlab-oidc.yaml` in the working directory. */
export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  return env[CONFIG_FILE_ENV] || DEFAULT_CONFIG_FILE;
}

/**
 * Reads, parses and validates a config file and the lock beside it (`gitlab-oidc.lock.yaml`, see
 * src/gitlab/lock.ts); throws ConfigError listing every problem, the lock's among them.
 */
export function loadConfigFile(path: string): Config {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
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
    lock = readLockFor(path);
  } catch (error) {
    if (!(error instanceof LockFileError)) throw error;
    throw new ConfigError(
      error.problems.map((message) => ({ path: [], message })),
      relative(process.cwd(), lockPathFor(path)) || lockPathFor(path),
    );
  }
  return parseConfig(text, source, lock);
}

/**
 * Parses and validates config text; `source` names the file in messages. `lock` holds the IDs behind
 * its paths (none: every grant that needs an ID is refused, naming `npm run resolve`).
 */
export function parseConfig(text: string, source = DEFAULT_CONFIG_FILE, lock?: GitLabLock): Config {
  refuseHugeDocument(text, source);
  return parseValidConfigFast(text, source, lock) ?? parseConfigWithPositions(text, source, lock);
}

const withLock = (config: z.output<typeof configSchema>, lock: GitLabLock | undefined): Config =>
  lock ? { ...config, lock } : config;

function refuseHugeDocument(text: string, source: string): void {
  const bytes = Buffer.byteLength(text, "utf8");
  if (bytes > YAML_LIMITS.maxBytes) {
    throw new ConfigError(
      [
        {
          path: [],
          message: `the file is ${(bytes / 1024 / 1024).toFixed(1)} MiB, over the ${YAML_LIMITS.maxBytes / 1024 / 1024} MiB a config may have; split it`,
        },
      ],
      source,
    );
  }
}

/** js-yaml 4.3 bounds nesting (`maxDepth`); its type definitions do not list the option yet. */
const JS_YAML_OPTIONS: LoadOptions & { maxDepth: number } = {
  schema: CORE_SCHEMA,
  maxDepth: YAML_LIMITS.maxDepth,
};

/**
 * Anchors, aliases, merge keys or a `__proto__` key: the fast reader cannot see them (and zod drops a
 * `__proto__` record key), so such a text takes the careful path, which refuses them by name.
 */
const CAREFUL_SYNTAX = /(?:^|[\s[{,])[&*][^\s[\]{},]|<<\s*:|__proto__/m;

/**
 * js-yaml reads a large config ~6× faster than `yaml` (0.3 s against 1.9 s for 5,000 roles); both read
 * YAML 1.2's core schema alike (a test holds them to it). A config that reads and validates cleanly is
 * done; anything else is read again by `yaml`, whose Document knows every line, and reported from there.
 */
function parseValidConfigFast(
  text: string,
  source: string,
  lock: GitLabLock | undefined,
): Config | undefined {
  if (CAREFUL_SYNTAX.test(text)) return undefined;
  let data: unknown;
  try {
    data = loadYaml(text, JS_YAML_OPTIONS) ?? {};
  } catch (error) {
    // `yaml` would recurse as deep as the document nests and overflow the stack: refuse it here.
    if (error instanceof YAMLException && error.reason.startsWith("nesting exceeded maxDepth")) {
      throw new ConfigError(
        [tooDeep(error.mark ? { line: error.mark.line + 1, col: error.mark.column + 1 } : {})],
        source,
      );
    }
    return undefined;
  }
  const parsed = configSchema.safeParse(data);
  if (!parsed.success || adoptedPolicyProblems(data).length > 0) return undefined;
  const config = withLock(parsed.data, lock);
  return checkConfig(config).length === 0 ? config : undefined;
}

/** The authoritative read: every problem, with its line and column. */
export function parseConfigWithPositions(
  text: string,
  source = DEFAULT_CONFIG_FILE,
  lock?: GitLabLock,
): Config {
  refuseHugeDocument(text, source);
  const lineCounter = new LineCounter();
  let document: Document;
  try {
    // Merge keys (`<<`, YAML 1.1) are read, and a key set both by a merge and directly is refused below.
    document = parseDocument(text, { lineCounter, prettyErrors: false, merge: true });
  } catch (error) {
    if (error instanceof RangeError) throw new ConfigError([tooDeep({})], source);
    throw error;
  }
  const located = (problems: Problem[]) =>
    new ConfigError(
      problems
        .map((problem) => ({ ...problem, ...locate(document, lineCounter, problem.path) }))
        .sort((a, b) => (a.line ?? 0) - (b.line ?? 0)),
      source,
    );

  if (document.errors.length > 0) {
    throw new ConfigError(
      document.errors.map((error) => ({
        path: [],
        message: `invalid YAML: ${error.message.split("\n")[0]}`,
        ...lineCounter.linePos(error.pos[0]),
      })),
      source,
    );
  }
  const structural = structureProblems(document);
  if (structural.length > 0) {
    throw new ConfigError(
      structural.map(({ message, position }) => ({ path: [], message, ...lineCounter.linePos(position) })),
      source,
    );
  }
  let data: unknown;
  try {
    data = document.toJS({ maxAliasCount: YAML_LIMITS.maxAliases }) ?? {};
  } catch (error) {
    if (!(error instanceof ReferenceError)) throw error;
    // `yaml` counts the nodes aliases expand to: nested aliases multiply ("billion laughs").
    throw new ConfigError(
      [
        {
          path: [],
          message: `the YAML aliases expand to more than ${YAML_LIMITS.maxAliases} copies; write the values out`,
        },
      ],
      source,
    );
  }
  const parsed = configSchema.safeParse(data, { reportInput: true });
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
  return config;
}

function tooDeep(at: { line?: number; col?: number }): Problem {
  return {
    path: [],
    message: `the document nests deeper than ${YAML_LIMITS.maxDepth} levels; a config needs about 12`,
    ...at,
  };
}

/**
 * What YAML allows but a config must not use: an alias as a map key (it hides which key is set, and
 * slips past the duplicate-key check), a key that a merge (`<<`, YAML 1.1) sets and something else sets
 * again (YAML lets one win silently), `__proto__`, keys that are not plain scalars, and more aliases
 * than a config needs (each can expand a whole subtree: "billion laughs"). Walked with an explicit stack.
 */
function structureProblems(document: Document): { message: string; position: number }[] {
  const problems: { message: string; position: number }[] = [];
  let aliases = 0;
  const stack: unknown[] = [document.contents];
  while (stack.length > 0) {
    const node = stack.pop();
    if (isAlias(node)) {
      if (++aliases === YAML_LIMITS.maxAliases + 1) {
        problems.push({
          message: `more than ${YAML_LIMITS.maxAliases} YAML aliases (*name); write the values out`,
          position: node.range?.[0] ?? 0,
        });
      }
    } else if (isCollection(node)) {
      if (isMap(node)) problems.push(...mergeProblems(node, document));
      for (const item of node.items) {
        if (!isPair(item)) {
          stack.push(item);
          continue;
        }
        const key = item.key as Node | null;
        const position = key?.range?.[0] ?? 0;
        if (isMergeKey(key)) {
          // Its aliases are counted where they stand; the merged maps are checked where they are defined.
        } else if (isAlias(key)) {
          problems.push({
            message: `a YAML alias (*${key.source}) cannot be a map key; write the key out`,
            position,
          });
        } else if (isScalar(key) && key.value === "__proto__") {
          problems.push({
            message:
              'a key named "__proto__" is not allowed (JavaScript reads it as the object\'s prototype); remove it',
            position,
          });
        } else if (key !== null && !isScalar(key)) {
          problems.push({ message: "a map key must be a plain string, not a list or map", position });
        }
        stack.push(item.value);
      }
    }
  }
  return problems;
}

/** `<<` read as a merge key (a quoted "<<" is an ordinary key). */
function isMergeKey(key: unknown): boolean {
  return isScalar(key) && typeof key.value === "symbol";
}

/**
 * A key a merge (`<<`) sets and the map sets again, or that two merged maps both set: YAML lets the
 * later one win silently; a config says each key once, as the duplicate-key rule wants.
 */
function mergeProblems(map: YAMLMap, document: Document): { message: string; position: number }[] {
  const merges = map.items.filter((pair) => isMergeKey(pair.key));
  if (merges.length === 0) return [];
  const problems: { message: string; position: number }[] = [];
  const merged = new Set<string>();
  const sources = (value: unknown): unknown[] => (isSeq(value) ? value.items : [value]);
  for (const pair of merges) {
    for (const source of sources(pair.value)) {
      const target = isAlias(source) ? source.resolve(document) : source;
      if (!isMap(target)) {
        problems.push({
          message: "a merge key (<<) takes a map or a list of maps (*anchor)",
          position: (pair.key as Node).range?.[0] ?? 0,
        });
        continue;
      }
      for (const key of keysOf(target, document, new Set())) {
        if (merged.has(key)) {
          problems.push({
            message: `key "${key}" comes from two merged maps (<<); say it once`,
            position: (pair.key as Node).range?.[0] ?? 0,
          });
        }
        merged.add(key);
      }
    }
  }
  for (const pair of map.items) {
    if (isScalar(pair.key) && !isMergeKey(pair.key) && merged.has(String(pair.key.value))) {
      problems.push({
        message: `key "${String(pair.key.value)}" is set both here and by a merge (<<); say it once`,
        position: pair.key.range?.[0] ?? 0,
      });
    }
  }
  return problems;
}

/** The keys a map sets, its own merges included. */
function keysOf(map: YAMLMap, document: Document, seen: Set<unknown>): string[] {
  if (seen.has(map)) return [];
  seen.add(map);
  return map.items.flatMap((pair) => {
    if (!isMergeKey(pair.key)) return isScalar(pair.key) ? [String(pair.key.value)] : [];
    return (isSeq(pair.value) ? pair.value.items : [pair.value]).flatMap((source) => {
      const target = isAlias(source) ? source.resolve(document) : source;
      return isMap(target) ? keysOf(target, document, seen) : [];
    });
  });
}

function standaloneGrantProblems(data: unknown): Problem[] {
  const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
  return list((data as { accounts?: unknown }).accounts).flatMap((account, a) =>
    list((account as { roles?: unknown })?.roles).flatMap((role, r) =>
      list((role as { allow?: unknown })?.allow).flatMap((entry, e) => {
        const grant = allowEntrySchema.safeParse(entry);
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
  if (issue.code === "invalid_type" && issue.expected === "record" && hasOwnConstructorKey(issue.input)) {
    // zod tells a map from a class instance by its `constructor`: a key of that name makes it neither.
    return [
      {
        path,
        message: 'a key named "constructor" cannot be read here (JavaScript gives it a meaning); rename it',
      },
    ];
  }
  if (issue.code === "invalid_type" && issue.input === undefined) {
    return [{ path, message: `missing: ${String(path[path.length - 1] ?? "value")} is required` }];
  }
  return [{ path, message: issue.message }];
}

function hasOwnConstructorKey(value: unknown): boolean {
  return typeof value === "object" && value !== null && Object.hasOwn(value, "constructor");
}

/** The keys the schema allows at `path`, for "did you mean" suggestions. */
function knownKeysAt(path: readonly PropertyKey[]): string[] {
  let schemas: unknown[] = [configSchema];
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

/** Line and column of the deepest node on `path` that exists (the key, for a map entry). */
function locate(
  document: Document,
  lineCounter: LineCounter,
  path: readonly (string | number)[],
): { line?: number; col?: number } {
  let node: unknown = document.contents;
  let position: number | undefined = (document.contents as Node | null)?.range?.[0];
  for (const segment of path) {
    if (isMap(node)) {
      const pair = node.items.find((item) => isScalar(item.key) && item.key.value === segment);
      if (!pair) break;
      position = (pair.key as Node).range?.[0] ?? position;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === "number" && segment < node.items.length) {
      node = node.items[segment];
      position = (node as Node).range?.[0] ?? position;
    } else {
      break;
    }
  }
  return position === undefined ? {} : lineCounter.linePos(position);
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
    const parsed = configSchema.safeParse(data);
    if (parsed.success && standaloneGrantProblems(data).length === 0) return parsed.data;
  }
  return loadConfigFile(path);
}

/** The file's data by the fast or the careful reader, under YAML_LIMITS; undefined on any problem. */
function readDataWithinLimits(path: string): unknown {
  try {
    const text = readFileSync(path, "utf8");
    if (Buffer.byteLength(text, "utf8") > YAML_LIMITS.maxBytes) return undefined;
    if (!CAREFUL_SYNTAX.test(text)) return loadYaml(text, JS_YAML_OPTIONS) ?? {};
    const document = parseDocument(text, { prettyErrors: false, merge: true });
    if (document.errors.length > 0 || structureProblems(document).length > 0) return undefined;
    return document.toJS({ maxAliasCount: YAML_LIMITS.maxAliases }) ?? {};
  } catch {
    return undefined; // unreadable, too deep, too many aliases: the full read says which, and where
  }
}
