/**
 * The careful YAML reader the config and the lock share: size, depth and alias limits, every problem
 * with its line, and the structure YAML allows but our files must not use (alias keys, merge keys that
 * set a key twice, keys JavaScript gives a meaning, judged on the parsed key whatever its spelling).
 */
import { CORE_SCHEMA, load as loadYaml, YAMLException, type LoadOptions } from "js-yaml";
import type { Document, LineCounter, Node, YAMLMap } from "yaml";
import { FORBIDDEN_KEYS, forbiddenKeyMessage, hasForbiddenKey } from "./forbidden-keys";
import { holdsSentinel, splitAccounts } from "./yaml-chunks";
import type { Problem } from "./rules";

/**
 * `yaml`, required when the careful reader first runs: a valid config never needs it, and in the main
 * job's bundle an import would run its 72 modules at every start (~10 ms; the per-file build makes it
 * lazy anyway, scripts/build.mjs).
 */
function yaml(): typeof import("yaml") {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require("yaml") as typeof import("yaml");
}

/**
 * Limits that refuse a hostile document before it costs time or memory. A 5,000-role config is ~3.6 MB
 * and nests ~12 levels; YAML aliases are rare in configs and expand without bound ("billion laughs").
 */
export const YAML_LIMITS = { maxBytes: 16 * 1024 * 1024, maxDepth: 64, maxAliases: 100 } as const;

/** Problems found reading a YAML file, each with its line where known. */
export class YamlProblemsError extends Error {
  constructor(readonly problems: readonly Problem[]) {
    super(problems.map((problem) => problem.message).join("\n"));
    this.name = "YamlProblemsError";
  }
}

export interface ReadYamlOptions {
  /**
   * The map paths whose keys are names, not fields (the lock's `projects`, `groups`: GitLab paths),
   * where a key such as `__proto__` is data read into a map without a prototype.
   * @default none
   */
  readonly nameKeysUnder?: readonly string[];
}

export interface YamlRead {
  readonly data: unknown;
  /** Line and column of the deepest node on `path` that exists (the key, for a map entry). */
  readonly locate: (path: readonly (string | number)[]) => { line?: number; col?: number };
}

export function tooDeep(at: { line?: number; col?: number }): Problem {
  return {
    path: [],
    message: `the document nests deeper than ${YAML_LIMITS.maxDepth} levels; a config needs about 12`,
    ...at,
  };
}

/** A problem when `text` is over the size limit. */
export function sizeProblem(text: string, what = "a config"): Problem | undefined {
  const bytes = Buffer.byteLength(text, "utf8");
  if (bytes <= YAML_LIMITS.maxBytes) return undefined;
  return {
    path: [],
    message: `the file is ${(bytes / 1024 / 1024).toFixed(1)} MiB, over the ${YAML_LIMITS.maxBytes / 1024 / 1024} MiB ${what} may have; split it`,
  };
}

/** js-yaml 4.3 bounds nesting (`maxDepth`); its type definitions do not list the option yet. */
const JS_YAML_OPTIONS: LoadOptions & { maxDepth: number } = {
  schema: CORE_SCHEMA,
  maxDepth: YAML_LIMITS.maxDepth,
};

/**
 * Anchors, aliases, merge keys or a `__proto__` key: the fast reader cannot see them, so such a text
 * takes the careful path, which refuses them by name. (A forbidden key spelled otherwise, such as
 * `"_\x5fproto__"`, is caught on the parsed data.)
 */
const CAREFUL_SYNTAX = /(?:^|[\s[{,])[&*][^\s[\]{},]|<<\s*:|__proto__/m;

/**
 * js-yaml reads a large file ~6× faster than `yaml` (0.3 s against 1.9 s for 5,000 roles); both read
 * YAML 1.2's core schema alike (a test holds them to it). The data when the fast reader can be trusted
 * with `text`; undefined when the careful reader (readYaml) must judge it. Refuses a document nested
 * too deep here, where `yaml` would overflow the stack.
 */
export function readYamlFast(text: string): unknown {
  if (sizeProblem(text) || CAREFUL_SYNTAX.test(text)) return undefined;
  let data: unknown;
  try {
    data = loadYaml(text, JS_YAML_OPTIONS) ?? {};
  } catch (error) {
    refuseTooDeep(error);
    return undefined;
  }
  return hasForbiddenKey(data) ? undefined : data;
}

/**
 * An item read alone is one level shallower than in the document (its sequence is the root, not the
 * value of the root's `accounts`): one less level keeps the depth limit where the document has it.
 */
const ITEM_OPTIONS: LoadOptions & { maxDepth: number } = {
  ...JS_YAML_OPTIONS,
  maxDepth: YAML_LIMITS.maxDepth - 1,
};

/** A text read around its `accounts:` items (readOutsideFast), the items left to read one by one. */
export interface OutsideRead {
  /** The data of everything but the items (`accounts` holds a placeholder item). */
  readonly outside: Record<string, unknown>;
  /** Each item's text, in order (readItemFast reads one). */
  readonly items: readonly string[];
}

/**
 * The fast reader's data of `text` without its `accounts:` items, and their texts (src/config/yaml-
 * chunks.ts says why each item then reads alike alone and in the document). Undefined when the text
 * does not split so, or the text around the items does not read as a map whose `accounts` is the
 * sentinel item, or it holds a forbidden key: the caller reads the whole text instead (readYamlFast),
 * so that nothing this cannot vouch for is read differently. Call only on texts readYamlFast would
 * read (not over the size limit, no CAREFUL_SYNTAX: fastReadable).
 */
export function readOutsideFast(text: string): OutsideRead | undefined {
  const split = splitAccounts(text);
  if (!split) return undefined;
  let outside: unknown;
  try {
    outside = loadYaml(split.outside, JS_YAML_OPTIONS);
  } catch {
    return undefined;
  }
  if (!holdsSentinel(outside, split.sentinel) || hasForbiddenKey(outside)) return undefined;
  return { outside, items: split.items };
}

/** Whether readYamlFast would read `text` at all (the others go to the careful reader). */
export function fastReadable(text: string): boolean {
  return !sizeProblem(text) && !CAREFUL_SYNTAX.test(text);
}

/**
 * One `accounts:` item's data, read alone (one level shallower: ITEM_OPTIONS); undefined when it does
 * not read as exactly one entry without a forbidden key, or js-yaml refuses it (the caller then reads
 * the whole text, which reports what is wrong where it is).
 */
export function readItemFast(item: string): unknown {
  let read: unknown;
  try {
    read = loadYaml(item, ITEM_OPTIONS);
  } catch {
    return undefined;
  }
  return Array.isArray(read) && read.length === 1 && !hasForbiddenKey(read)
    ? (read[0] as unknown)
    : undefined;
}

function refuseTooDeep(error: unknown): void {
  if (error instanceof YAMLException && error.reason.startsWith("nesting exceeded maxDepth")) {
    throw new YamlProblemsError([
      tooDeep(error.mark ? { line: error.mark.line + 1, col: error.mark.column + 1 } : {}),
    ]);
  }
}

/** Reads `text` with every limit and structure check; throws YamlProblemsError listing what is wrong. */
export function readYaml(text: string, options: ReadYamlOptions = {}, what?: string): YamlRead {
  const { LineCounter, parseDocument } = yaml();
  const huge = sizeProblem(text, what);
  if (huge) throw new YamlProblemsError([huge]);
  try {
    loadYaml(text, JS_YAML_OPTIONS); // the depth gate: `yaml` itself has none
  } catch (error) {
    refuseTooDeep(error);
  }
  const lineCounter = new LineCounter();
  let document: Document;
  try {
    // Merge keys (`<<`, YAML 1.1) are read, and a key set both by a merge and directly is refused below.
    document = parseDocument(text, { lineCounter, prettyErrors: false, merge: true });
  } catch (error) {
    if (error instanceof RangeError) throw new YamlProblemsError([tooDeep({})]);
    throw error;
  }
  if (document.errors.length > 0) {
    throw new YamlProblemsError(
      document.errors.map((error) => ({
        path: [],
        message: `invalid YAML: ${error.message.split("\n")[0]}`,
        ...lineCounter.linePos(error.pos[0]),
      })),
    );
  }
  const structural = structureProblems(document, options.nameKeysUnder ?? []);
  if (structural.length > 0) {
    throw new YamlProblemsError(
      structural.map(({ message, position }) => ({ path: [], message, ...lineCounter.linePos(position) })),
    );
  }
  let data: unknown;
  try {
    data = document.toJS({ maxAliasCount: YAML_LIMITS.maxAliases }) ?? {};
  } catch (error) {
    if (!(error instanceof ReferenceError)) throw error;
    // `yaml` counts the nodes aliases expand to: nested aliases multiply ("billion laughs").
    throw new YamlProblemsError([
      {
        path: [],
        message: `the YAML aliases expand to more than ${YAML_LIMITS.maxAliases} copies; write the values out`,
      },
    ]);
  }
  return { data, locate: (path) => locate(document, lineCounter, path) };
}

/**
 * What YAML allows but our files must not use: an alias as a map key (it hides which key is set, and
 * slips past the duplicate-key check), a key that a merge (`<<`, YAML 1.1) sets and something else sets
 * again (YAML lets one win silently), a forbidden key (FORBIDDEN_KEYS, on the parsed key), keys that are
 * not plain scalars, and more aliases than a config needs (each can expand a whole subtree: "billion
 * laughs"). Walked with an explicit stack.
 */
function structureProblems(
  document: Document,
  nameKeysUnder: readonly string[],
): { message: string; position: number }[] {
  const { isAlias, isCollection, isMap, isPair, isScalar } = yaml();
  const problems: { message: string; position: number }[] = [];
  let aliases = 0;
  const stack: { node: unknown; path: string }[] = [{ node: document.contents, path: "" }];
  while (stack.length > 0) {
    const { node, path } = stack.pop() as { node: unknown; path: string };
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
          stack.push({ node: item, path: `${path}[]` });
          continue;
        }
        const key = item.key as Node | null;
        const position = key?.range?.[0] ?? 0;
        const name = isScalar(key) ? String(key.value) : "";
        if (isMergeKey(key)) {
          // Its aliases are counted where they stand; the merged maps are checked where they are defined.
        } else if (isAlias(key)) {
          problems.push({
            message: `a YAML alias (*${key.source}) cannot be a map key; write the key out`,
            position,
          });
        } else if (isScalar(key) && FORBIDDEN_KEYS.has(name) && !nameKeysUnder.includes(path)) {
          problems.push({ message: forbiddenKeyMessage(name), position });
        } else if (key !== null && !isScalar(key)) {
          problems.push({ message: "a map key must be a plain string, not a list or map", position });
        }
        stack.push({ node: item.value, path: path === "" ? name : `${path}.${name}` });
      }
    }
  }
  return problems;
}

/** `<<` read as a merge key (a quoted "<<" is an ordinary key). */
function isMergeKey(key: unknown): boolean {
  return yaml().isScalar(key) && typeof key.value === "symbol";
}

/**
 * A key a merge (`<<`) sets and the map sets again, or that two merged maps both set: YAML lets the
 * later one win silently; a config says each key once, as the duplicate-key rule wants.
 */
function mergeProblems(map: YAMLMap, document: Document): { message: string; position: number }[] {
  const { isAlias, isMap, isScalar, isSeq } = yaml();
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
  const { isAlias, isMap, isScalar, isSeq } = yaml();
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

/** Line and column of the deepest node on `path` that exists (the key, for a map entry). */
function locate(
  document: Document,
  lineCounter: LineCounter,
  path: readonly (string | number)[],
): { line?: number; col?: number } {
  const { isMap, isScalar, isSeq } = yaml();
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
