/**
 * Reading `gitlab-oidc.yaml`: YAML → schema → cross-field rules, collecting every problem with the
 * field path and the line it is on. Nothing is synthesized unless this returns a config.
 */
import { CORE_SCHEMA, load as loadYaml } from "js-yaml";
import { readFileSync } from "node:fs";
import { relative } from "node:path";
import type { Document, LineCounter, Node } from "yaml";
import type { z } from "zod";
import { checkAllowEntry, checkConfig, ConfigError, unknownKeyMessage, type Problem } from "./rules";
import { allowEntrySchema, configSchema, type Config } from "./schema";

export const DEFAULT_CONFIG_FILE = "gitlab-oidc.yaml";
export const CONFIG_FILE_ENV = "GITLAB_OIDC_CONFIG";

/** The config file this run uses: `$GITLAB_OIDC_CONFIG`, else `gitlab-oidc.yaml` in the working directory. */
export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  return env[CONFIG_FILE_ENV] || DEFAULT_CONFIG_FILE;
}

/**
 * `yaml` (72 modules, ~0.02 s to load) is needed only to locate problems, so it is loaded on the first
 * config that has one and valid configs never pay for it.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const yamlWithPositions = (): typeof import("yaml") => require("yaml");

/** Reads, parses and validates a config file; throws ConfigError listing every problem. */
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
  return parseConfig(text, shown && !shown.startsWith("..") ? shown : path);
}

/** Parses and validates config text; `source` names the file in messages. */
export function parseConfig(text: string, source = DEFAULT_CONFIG_FILE): Config {
  return parseValidConfigFast(text) ?? parseConfigWithPositions(text, source);
}

/**
 * js-yaml reads a large config ~6× faster than `yaml` (0.3 s against 1.9 s for 5,000 roles); both read
 * YAML 1.2's core schema alike (a test holds them to it). A config that reads and validates cleanly is
 * done; anything else is read again by `yaml`, whose Document knows every line, and reported from there.
 */
function parseValidConfigFast(text: string): Config | undefined {
  let data: unknown;
  try {
    data = loadYaml(text, { schema: CORE_SCHEMA }) ?? {};
  } catch {
    return undefined;
  }
  const parsed = configSchema.safeParse(data);
  return parsed.success && checkConfig(parsed.data).length === 0 ? parsed.data : undefined;
}

/** The authoritative read: every problem, with its line and column. */
export function parseConfigWithPositions(text: string, source = DEFAULT_CONFIG_FILE): Config {
  const { LineCounter, parseDocument } = yamlWithPositions();
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false });
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
  const data = document.toJS() ?? {};
  const parsed = configSchema.safeParse(data, { reportInput: true });
  if (!parsed.success) {
    // The cross-field rules need a well-formed config, but grants stand alone: check those that parse,
    // so the most common mistakes are reported in the same run as the shape errors.
    throw located([...parsed.error.issues.flatMap(problemsFromIssue), ...standaloneGrantProblems(data)]);
  }
  const problems = checkConfig(parsed.data);
  if (problems.length > 0) throw located(problems);
  return parsed.data;
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
  if (issue.code === "invalid_type" && issue.input === undefined) {
    return [{ path, message: `missing: ${String(path[path.length - 1] ?? "value")} is required` }];
  }
  return [{ path, message: issue.message }];
}

/** The keys the schema allows at `path`, for "did you mean" suggestions. */
function knownKeysAt(path: readonly PropertyKey[]): string[] {
  let schemas: unknown[] = [configSchema];
  for (const segment of path) {
    schemas = schemas.flatMap(unwrap).flatMap((schema) => {
      const def = (schema as { _zod: { def: Record<string, unknown> } })._zod.def;
      if (typeof segment === "number") return def.type === "array" ? [def.element] : [];
      return def.type === "object"
        ? [(def.shape as Record<string, unknown>)[segment as string]].filter(Boolean)
        : [];
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
  const { isMap, isScalar, isSeq } = yamlWithPositions();
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
