/**
 * The main job's read of the config with the parse cache (src/config/parse-cache.ts, issue 25): an
 * `accounts:` item whose bytes were read before is neither parsed nor validated again; its schema output
 * is taken from the cache by the SHA-256 of its bytes. The same result as configSchema.safeParse of the
 * whole text's data (test/config-parse-cache.test.ts), or undefined: the caller reads the whole text.
 */
import { version as JS_YAML_VERSION } from "js-yaml/package.json";
import type { z } from "zod/mini";
import { version as ZOD_VERSION } from "zod/package.json";
import { adoptedPolicyProblems } from "./adoption";
import { configSchemas } from "./lazy-schema";
import { ParseCacheSession, type ParseCacheOptions } from "./parse-cache";
import type { ConfigFile } from "./schema";
import { readItemFast, readOutsideFast } from "./yaml-document";

/**
 * configSchema with the accounts passed through: they are parsed one by one with accountSchema, which
 * configSchema applies to each element of `accounts` and to nothing else (no refinement of configSchema
 * reads across accounts; those checks are checkConfig's). `min(1)` as configSchema's. Made on first use,
 * as the schema is (./lazy-schema.ts).
 */
let outerSchema: z.ZodMiniType<Omit<ConfigFile, "accounts"> & { accounts: unknown[] }> | undefined;
export function outerSchemaOf(): NonNullable<typeof outerSchema> {
  if (!outerSchema) {
    const { configSchema } = configSchemas();
    // The zod that built the schema (the bundle's own), for the array the accounts are passed through.
    const { z: zod } = require("./zod") as typeof import("./zod"); // eslint-disable-line @typescript-eslint/no-require-imports
    outerSchema = zod.extend(configSchema, { accounts: zod.array(zod.unknown()).check(zod.minLength(1)) });
  }
  return outerSchema;
}

/** What an item's key covers besides its bytes and the salt: the reader's kind and its output. */
const ITEM_KIND = "account item: js-yaml alone (maxDepth - 1), accountSchema, no adopted-policy problem";

/**
 * What the settings' key covers besides their data and the salt: the settings around the accounts (all
 * but `accounts:`, as js-yaml read them) through outerSchema. Keyed by their data (exactJson),
 * `accounts` by how many items it has (the split marks each with a random word).
 */
const OUTSIDE_KIND = "settings around the accounts: js-yaml, outerSchema";

/**
 * js-yaml's data as text that tells every value apart: JSON, with each number and string tagged, so
 * `.nan` and `.inf` (which JSON writes as null), `-0` (as 0) and a string spelled like a number differ.
 */
const exactJson = (data: unknown): string =>
  JSON.stringify(data, (_key, value: unknown) =>
    typeof value === "number"
      ? `${Object.is(value, -0) ? "-0" : String(value)}#n`
      : typeof value === "string"
        ? `${value}#s`
        : value,
  );

/**
 * The schema output of a config text that the fast reader reads (fastReadable), from the cache where
 * its items' bytes were read before; undefined when anything is not certain or does not validate (the
 * split, an item alone, the schema, an adopted role's policies): the caller then reads the whole text
 * as before, for the same verdict and problems. Writes the cache when it returns a config.
 */
export function parseConfigCached(text: string, options: ParseCacheOptions): ConfigFile | undefined {
  const whole = (why: string): undefined => {
    options.onRead?.({ parsed: 0, reused: 0, whole: why });
    return undefined;
  };
  const read = readOutsideFast(text);
  if (!read) return whole("the text does not split into accounts' items that read alone");
  // The versions of the two readers whose output is kept: the bundle carries its own js-yaml and zod,
  // which the tool's fingerprint (the bytes of its `src/`) does not cover.
  const cache = new ParseCacheSession(
    options,
    `${options.salt}\0js-yaml@${JS_YAML_VERSION}\0zod@${ZOD_VERSION}\0${ITEM_KIND}`,
  );
  // Items and settings are keyed apart ("item\0", "settings\0"): no text can stand for the other.
  const settingsData = { ...read.outside, accounts: read.items.length };
  const outsideKey = cache.keyOf(`settings\0${OUTSIDE_KIND}\0${exactJson(settingsData)}`);
  let outside = cache.get(outsideKey) as Omit<ConfigFile, "accounts"> | undefined;
  const settings = outside === undefined ? "parsed" : "reused";
  if (outside === undefined) {
    const outer = outerSchemaOf().safeParse(read.outside);
    if (!outer.success) return whole("the settings around the accounts do not validate");
    const parsedSettings: Partial<typeof outer.data> = { ...outer.data };
    delete parsedSettings.accounts; // the items', read below
    outside = parsedSettings as Omit<ConfigFile, "accounts">;
    cache.set(outsideKey, outside);
  }
  const accounts: unknown[] = [];
  let parsed = 0;
  for (const item of read.items) {
    const key = cache.keyOf(`item\0${item}`);
    const known = cache.get(key);
    if (known !== undefined) {
      accounts.push(known);
      continue;
    }
    const data = readItemFast(item);
    if (data === undefined) return whole("an item does not read alone as one entry");
    const account = configSchemas().accountSchema.safeParse(data);
    if (!account.success) return whole("an account does not validate");
    // adoptedPolicyProblems reads each account alone (its roles and its own `adopt`).
    if (adoptedPolicyProblems({ accounts: [data] }).length > 0) return whole("an adopted role's policies");
    parsed++;
    accounts.push(account.data);
    cache.set(key, account.data);
  }
  cache.commit();
  options.onRead?.({ parsed, reused: read.items.length - parsed, settings });
  return { ...outside, accounts: accounts as ConfigFile["accounts"] } as ConfigFile;
}
