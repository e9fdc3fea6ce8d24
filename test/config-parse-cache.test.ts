import { createHash } from "node:crypto";
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { generateConfig, generateLock } from "../bench/generate";
import { parseConfig } from "../src/config/load";
import {
  cachedItem,
  itemData,
  KEPT_PARSE_CACHES,
  PARSE_CACHE_SUBDIR,
  parseCacheFile,
  writeParseCache,
  type ParseCacheOptions,
  type ParseCacheRead,
} from "../src/config/parse-cache";
import { outerSchemaOf } from "../src/config/cached-config";
import { ConfigError } from "../src/config/rules";
import { accountSchema, configSchema, type Config } from "../src/config/schema";
import { splitAccounts } from "../src/config/yaml-chunks";
import {
  fastReadable,
  readItemFast,
  readOutsideFast,
  readYamlFast,
  YAML_LIMITS,
} from "../src/config/yaml-document";
import { parseLock, type GitLabLock } from "../src/gitlab/lock";
import { seeded } from "./support/seeded";
import { defaultSynthCacheDir } from "../src/synth-cache";
import { breadth } from "./support/breadth";

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "gitlab-oidc-parse-cache-"));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const ACCOUNTS = 6;
const ROLES = 2;
const LOCK: GitLabLock = parseLock(generateLock(ACCOUNTS, ROLES), "gitlab-oidc.lock.yaml");

/** A cache in the test's directory that records each read's counts. */
function cacheIn(dir: string, salt = "tool"): ParseCacheOptions & { reads: ParseCacheRead[] } {
  const reads: ParseCacheRead[] = [];
  return { file: parseCacheFile(dir, "/config.yaml"), salt, onRead: (read) => reads.push(read), reads };
}

/** What parseConfig makes of `text`: the config, or the problems it is refused for. */
function outcome(text: string, cache?: ParseCacheOptions): unknown {
  try {
    return { config: parseConfig(text, "test.yaml", LOCK, cache ? { parseCache: cache } : {}) };
  } catch (error) {
    if (error instanceof ConfigError) return { problems: error.problems };
    return { thrown: String(error) };
  }
}

/**
 * Where `a` and `b` differ as data: own keys in order, primitives by Object.is (-0, NaN), arrays, and
 * null-prototype maps apart from objects. Not jest's toStrictEqual, which compares constructors: what
 * v8.deserialize makes lives in Node's realm, not jest's sandbox.
 */
function dataDifference(a: unknown, b: unknown, at = "$"): string | undefined {
  if (typeof a !== "object" || a === null || typeof b !== "object" || b === null) {
    return Object.is(a, b) ? undefined : `${at}: ${String(a)} ≠ ${String(b)}`;
  }
  if (Array.isArray(a) !== Array.isArray(b)) return `${at}: array and not`;
  if ((Object.getPrototypeOf(a) === null) !== (Object.getPrototypeOf(b) === null)) return `${at}: prototype`;
  const keys = [Object.keys(a), Object.keys(b)];
  if (keys[0]!.join("\0") !== keys[1]!.join("\0"))
    return `${at}: keys ${keys[0]!.join()} ≠ ${keys[1]!.join()}`;
  for (const key of keys[0]!) {
    const found = dataDifference(
      (a as Record<string, unknown>)[key],
      (b as Record<string, unknown>)[key],
      `${at}.${key}`,
    );
    if (found) return found;
  }
  return undefined;
}

/** Holds the cached read of `text` to the uncached one: the same data, key order included. */
function expectSameAsUncached(text: string, cache: ParseCacheOptions): void {
  expectSoundSplit(text);
  const cached = outcome(text, cache);
  const uncached = outcome(text);
  expect(dataDifference(cached, uncached)).toBeUndefined();
  expect(cached).toEqual(uncached);
}

/**
 * The YAML alone, without the schema: whenever the text splits and every item reads alone, the parts
 * put together are what the whole text reads as (and the whole text reads: no error, no depth limit).
 */
function expectSoundSplit(text: string): void {
  if (!fastReadable(text)) return;
  const read = readOutsideFast(text);
  const items = read?.items.map(readItemFast);
  if (!read || !items || items.some((item) => item === undefined)) return;
  const assembled: Record<string, unknown> = { ...read.outside };
  assembled.accounts = items;
  expect(dataDifference(assembled, readYamlFast(text))).toBeUndefined();
}

/** A generated config as parts to edit: its items' lines relative to the items' indentation. */
interface Doc {
  head: string;
  items: { before: string[]; lines: string[] }[];
  indent: number;
  tail: string;
}

function docOf(text: string): Doc {
  const [head, rest] = text.split(/^accounts:\n/m) as [string, string];
  const items = rest.split(/^(?= {2}- name: )/m).map((item) => ({
    before: [],
    lines: item
      .replace(/\n$/, "")
      .split("\n")
      .map((line) => line.slice(2)),
  }));
  return { head: `${head}accounts:\n`, items, indent: 2, tail: "" };
}

function textOf(doc: Doc): string {
  const pad = " ".repeat(doc.indent);
  const lines = doc.items.flatMap((item) => [
    ...item.before,
    ...item.lines.map((line) => (line === "" ? "" : pad + line)),
  ]);
  return `${doc.head}${lines.join("\n")}\n${doc.tail}`;
}

describe("the config parse cache", () => {
  test("a cached read equals the whole text's read after every kind of edit", () => {
    // GIVEN a generated config, read once with the cache
    const cache = cacheIn(root);
    const doc = docOf(generateConfig(ACCOUNTS, ROLES));
    expectSameAsUncached(textOf(doc), cache);
    const random = seeded(25);
    let added = 0;
    const edits: ((i: number) => void)[] = [
      // a description, with non-ASCII text
      (i) => {
        const lines = doc.items[i]!.lines;
        const at = lines.findIndex((line) => line.includes("description:"));
        lines[at] = lines[at]!.replace("Deploys", `Déploie ü ${random(1000)}`);
      },
      // an account inserted (a copy under a new name and ID)
      (i) => {
        added++;
        const lines = doc.items[i]!.lines.map((line) =>
          line
            .replace(/^- name: .*/, `- name: acct-new-${added}`)
            .replace(/accountId: .*/, `accountId: "${200000000000 + added}"`),
        );
        doc.items.splice(random(doc.items.length + 1), 0, { before: [], lines });
      },
      // an account deleted
      (i) => {
        if (doc.items.length > 1) doc.items.splice(i, 1);
      },
      // two accounts swapped
      (i) => {
        const j = random(doc.items.length);
        [doc.items[i], doc.items[j]] = [doc.items[j]!, doc.items[i]!];
      },
      // the items' indentation: 0 (a compact sequence), 2 or 4
      () => {
        doc.indent = [0, 2, 4][random(3)]!;
      },
      // comments and blank lines between items, at column 0 and at the items' indentation
      (i) => {
        doc.items[i]!.before.push(["# a comment ü", "", "  # indented", "#"][random(4)]!);
      },
      // a key after the accounts
      () => {
        doc.tail = doc.tail === "" ? "limits:\n  trustPolicyLength: 4096\n" : "";
      },
      // an item's own indentation (its keys 4 deeper than its dash)
      (i) => {
        doc.items[i]!.lines = doc.items[i]!.lines.map((line, n) =>
          n === 0 ? line.replace(/^- /, "-   ") : line === "" ? line : `  ${line}`,
        );
      },
    ];
    // WHEN random edits follow one another, each read with the same cache
    for (let step = 0; step < breadth(60, 15); step++) {
      edits[step < edits.length ? step : random(edits.length)]!(random(doc.items.length));
      // THEN each read equals the uncached read of the same text
      expectSameAsUncached(textOf(doc), cache);
    }
    // AND the cache was used: most items were taken from it, none read the whole text
    const reused = cache.reads.reduce((sum, read) => sum + read.reused, 0);
    const parsed = cache.reads.reduce((sum, read) => sum + read.parsed, 0);
    expect(cache.reads.filter((read) => read.whole !== undefined)).toEqual([]);
    expect(reused).toBeGreaterThan(parsed * 2);
  });

  test("an unchanged item is not parsed again; a changed one is", () => {
    // GIVEN a config read once with the cache
    const cache = cacheIn(root);
    const text = generateConfig(ACCOUNTS, ROLES);
    outcome(text, cache);
    expect(cache.reads.at(-1)).toEqual({ parsed: ACCOUNTS, reused: 0, settings: "parsed" });
    // WHEN it is read again unchanged, then with one role's description changed (accountSchema's
    // parse watched: it runs on each item that is parsed)
    const accountParses = jest.spyOn(accountSchema, "safeParse");
    outcome(text, cache);
    const unchanged = accountParses.mock.calls.length;
    const edited = text.replace("description: Deploys ", "description: Deploys (edited) ");
    const config = outcome(edited, cache) as { config: { accounts: { roles: { description: string }[] }[] } };
    const changed = accountParses.mock.calls.length - unchanged;
    accountParses.mockRestore();
    // THEN only the changed account's item is parsed, and the edit is seen
    expect(cache.reads.slice(1)).toEqual([
      { parsed: 0, reused: ACCOUNTS, settings: "reused" },
      { parsed: 1, reused: ACCOUNTS - 1, settings: "reused" },
    ]);
    // AND zod's account schema ran on no item, then on that one item only
    expect([unchanged, changed]).toEqual([0, 1]);
    expect(config.config.accounts[0]!.roles[0]!.description).toMatch(/^Deploys \(edited\) /);
  });

  test("the settings around the accounts are parsed once: read again unchanged, the schema is not used", () => {
    // GIVEN a config read once with the cache
    const cache = cacheIn(root);
    const text = generateConfig(ACCOUNTS, ROLES);
    outcome(text, cache);
    // WHEN it is read again unchanged (zod's config schema watched), then with a setting changed
    const schemaParses = jest.spyOn(configSchema, "safeParse");
    const settingsParses = jest.spyOn(outerSchemaOf(), "safeParse");
    const again = outcome(text, cache);
    const unchanged = schemaParses.mock.calls.length + settingsParses.mock.calls.length;
    const edited = text.replace("\naccounts:", "\nlimits:\n  trustPolicyLength: 4096\naccounts:");
    expect(edited).not.toBe(text);
    const changed = outcome(edited, cache) as { config: Config };
    schemaParses.mockRestore();
    settingsParses.mockRestore();
    // THEN the unchanged read took its settings from the cache, ran no schema and equals the first
    expect(cache.reads.slice(1).map((read) => read.settings)).toEqual(["reused", "parsed"]);
    expect(unchanged).toBe(0);
    expect(again).toStrictEqual(outcome(text));
    // AND the changed setting is seen, as the uncached read sees it
    expect(changed.config.limits.trustPolicyLength).toBe(4096);
    expect(changed).toStrictEqual(outcome(edited));
  });

  test("another tool (salt) parses every item again", () => {
    // GIVEN a config read with the cache under one tool fingerprint
    const text = generateConfig(ACCOUNTS, ROLES);
    outcome(text, cacheIn(root, "tool-1"));
    // WHEN another tool reads it with the same cache file
    const other = cacheIn(root, "tool-2");
    outcome(text, other);
    // THEN nothing is taken from the first tool's entries
    expect(other.reads).toEqual([{ parsed: ACCOUNTS, reused: 0, settings: "parsed" }]);
  });

  test.each([
    [
      "a flipped byte",
      (bytes: Buffer) => Buffer.from(bytes.map((b, i) => (i === bytes.length - 3 ? b ^ 1 : b))),
    ],
    ["a truncated file", (bytes: Buffer) => bytes.subarray(0, bytes.length - 10)],
    ["an empty file", () => Buffer.alloc(0)],
    ["a foreign file", () => Buffer.from("not a cache\n")],
    [
      "a valid checksum over another format",
      (bytes: Buffer) => {
        const body = Buffer.from(
          bytes
            .subarray(65)
            .toString("latin1")
            .replace(/parsed config \d+/, "parsed config 0"),
          "latin1",
        );
        return Buffer.concat([Buffer.from(`${createHash("sha256").update(body).digest("hex")}\n`), body]);
      },
    ],
  ])("%s means every item is parsed again, with the same result", (_, damage) => {
    // GIVEN a config read once with the cache
    const cache = cacheIn(root);
    const text = generateConfig(ACCOUNTS, ROLES);
    outcome(text, cache);
    // WHEN the cache file is damaged
    writeFileSync(cache.file, damage(readFileSync(cache.file)));
    // THEN the next read parses every item, equals the uncached read and repairs the cache
    expectSameAsUncached(text, cache);
    expect(cache.reads.at(-1)).toEqual({ parsed: ACCOUNTS, reused: 0, settings: "parsed" });
    outcome(text, cache);
    expect(cache.reads.at(-1)).toEqual({ parsed: 0, reused: ACCOUNTS, settings: "reused" });
  });

  const base = generateConfig(3, 1);
  test.each([
    ["flow style", base.replace(/^accounts:\n[^]*$/m, "accounts: []\n")],
    ["a second accounts key", `${base}accounts: []\n`],
    ["a quoted accounts key", base.replace(/^accounts:/m, '"accounts":')],
    ["a tab", base.replace("state:\n  type: local", "state:\n\ttype: local")],
    ["a document marker", `---\n${base}`],
    ["a document end", `${base}...\n`],
    ["a directive", `%YAML 1.2\n---\n${base}`],
    ["CRLF line ends", base.replace(/\n/g, "\r\n")],
    ["a byte-order mark", `\uFEFF${base}`],
    ["a line between column 0 and the items", base.replace(/^ {4}accountId/m, " accountId")],
    ["a key at the items' indentation", base.replace(/^ {4}accountId/m, "  accountId")],
    ["a quoted scalar across items", base.replace(/description: (.*)$/m, 'description: "$1\n  - x"')],
    ["an item that is an error alone", base.replace(/description: (.*)$/m, "description: [$1")],
    ["no items", base.replace(/^accounts:\n[^]*$/m, "accounts:\n")],
    ["a root flow map around the items", '{ x: "\naccounts:\n  - a\n",\n  accounts: }\n'],
  ])("%s reads the whole text, with the same result", (_, text) => {
    // GIVEN a text the split cannot vouch for, and a warm cache of the plain config
    const cache = cacheIn(root);
    outcome(base, cache);
    // WHEN it is read with the cache
    // THEN the result (config or problems, with their lines) is the uncached read's
    expectSameAsUncached(text, cache);
    const last = cache.reads.at(-1);
    // AND it read the whole text (or, a text for the careful reader, did not use the cache at all)
    if (cache.reads.length > 1) expect(last?.whole).toEqual(expect.any(String));
  });

  test("random damage to the YAML never makes the split's parts read other than the whole text", () => {
    // GIVEN a small config, and a seeded stream of characters YAML gives a meaning
    const text = generateConfig(3, 1).replace(/^accounts:\n/m, "accounts:\n  # first\n");
    const random = seeded(27);
    const marks = [
      '"',
      "'",
      "[",
      "]",
      "{",
      "}",
      "|",
      ">",
      "|+",
      "- ",
      ": ",
      "#",
      " ",
      "\n",
      "\n  ",
      "\n- ",
      "\\",
      "?",
    ];
    let split = 0;
    const rounds = breadth(1000, 200);
    for (let round = 0; round < rounds; round++) {
      // WHEN one to three of them are inserted, or characters deleted, at random places
      let damaged = text;
      for (let edit = 0; edit <= random(3); edit++) {
        const at = random(damaged.length);
        damaged =
          random(3) === 0
            ? damaged.slice(0, at) + damaged.slice(at + 1 + random(3))
            : damaged.slice(0, at) + marks[random(marks.length)]! + damaged.slice(at);
      }
      // THEN whenever the split vouches for the parts, they are the whole text's data (expectSoundSplit)
      expectSoundSplit(damaged);
      const read = readOutsideFast(damaged);
      if (read && read.items.every((item) => readItemFast(item) !== undefined)) split++;
    }
    // AND most damaged texts were still split (the check above was not vacuous)
    expect(split).toBeGreaterThan(rounds / 4);
  });

  test.each([
    ["accounts empty", '{ x: "\naccounts:\n  - a\n",\n  accounts: }\n'],
    ["accounts a list of its own", '{ x: "\naccounts:\n  - a\n",\n  accounts: [b] }\n'],
  ])("the items must be accounts' value, not text inside a scalar (%s)", (_, text) => {
    // GIVEN a text whose items stand inside a quoted scalar of a root map
    // WHEN it is split, THEN the split itself is possible, but the text around it does not read so
    expect(splitAccounts(text)).toBeDefined();
    expect(readOutsideFast(text)).toBeUndefined();
    expectSoundSplit(text);
  });

  test("block scalars kept to an item's end, and nesting at the depth limit, read as in the whole text", () => {
    const cache = cacheIn(root);
    // GIVEN an item ending in a kept block scalar (`|+`) followed by blank lines and comments
    const kept = base.replace(/description: (.*)$/m, "description: |+\n        $1\n\n# between\n\n");
    expectSameAsUncached(kept, cache);
    // AND items nested one level under and at the depth limit (the item alone is one level shallower)
    // (a role's description stands 5 levels deep: the limit falls between 58 and 59 maps in it)
    for (let depth = YAML_LIMITS.maxDepth - 8; depth <= YAML_LIMITS.maxDepth - 3; depth++) {
      let nested = "x";
      for (let level = 0; level < depth; level++) nested = `{ a: ${nested} }`;
      const text = base.replace(/description: .*$/m, `description: ${nested}`);
      expectSameAsUncached(text, cache);
    }
  });

  test("YAML's .inf, .nan and -0 in an item come back from the cache as they were", () => {
    // GIVEN a config with a condition listing .inf, -0 and .nan (a statement's values are not checked)
    const cache = cacheIn(root);
    const text = generateConfig(ACCOUNTS, ROLES).replace(
      /^( *)Resource: (arn:aws:s3:::acme-000-svc-002\/\*)$/m,
      "$1Resource: $2\n$1Condition:\n$1  NumericLessThan:\n$1    aws:EpochTime: [.inf, -0.0, .nan, -.inf, 0]",
    );
    // WHEN it is read with the cache twice (the second time from the cache)
    expectSameAsUncached(text, cache);
    expectSameAsUncached(text, cache);
    // THEN both reads equal the uncached read, and the second took every item from the cache
    expect(cache.reads).toEqual([
      { parsed: ACCOUNTS, reused: 0, settings: "parsed" },
      { parsed: 0, reused: ACCOUNTS, settings: "reused" },
    ]);
    const config = (outcome(text, cache) as { config: Config }).config;
    const statement = config.accounts[0]!.roles[1]!.inlinePolicies["deploy-assets"]!.Statement;
    expect(JSON.stringify(statement)).toContain("NumericLessThan");
    const values = (statement as { Condition?: { NumericLessThan: Record<string, number[]> } }[])[0]!
      .Condition!.NumericLessThan["aws:EpochTime"]!;
    expect(values.map((value) => (Object.is(value, -0) ? "-0" : String(value)))).toEqual([
      "Infinity",
      "-0",
      "NaN",
      "-Infinity",
      "0",
    ]);
  });

  test("numbers JSON cannot keep are cached with v8's serializer", () => {
    // GIVEN data with YAML's .inf, .nan and -0, and an undefined value
    const data = { a: [Infinity, -Infinity, NaN, -0, 0, 1.5], b: undefined, c: { d: "ü" } };
    // WHEN it is cached and read back
    const item = cachedItem(data)!;
    // THEN it comes back exactly, keys in order
    expect(item.kind).toBe("v");
    const back = itemData(item) as typeof data;
    // (toEqual: v8.deserialize makes its objects in Node's realm, not jest's; toEqual still tells -0 from 0)
    expect(back).toEqual(data);
    expect(Object.hasOwn(back, "b")).toBe(true);
    expect(Object.is(back.a[3], -0)).toBe(true);
    expect(Object.keys(back)).toEqual(["a", "b", "c"]);
    // AND plain JSON data is kept as JSON (ASCII: other characters escaped, lone surrogates too)
    const text = { s: "ü ☃ 😀 \ud800 \u007f end" };
    const json = cachedItem(text)!;
    expect(json.kind).toBe("j");
    expect(Buffer.from(json.bytes).every((byte) => byte < 0x80)).toBe(true);
    expect(itemData(json)).toEqual(text);
    // AND data that is not plain is not kept at all
    expect(cachedItem({ a: [1, "x", null, true] })?.kind).toBe("j");
    expect(cachedItem({ a: new Map() })).toBeUndefined();
    expect(cachedItem(Object.create(null))).toBeUndefined();
  });

  test("the cache directory keeps the newest files only", () => {
    // GIVEN more cache files than are kept, one per config file
    const dir = join(root, "config");
    const count = KEPT_PARSE_CACHES + 3;
    for (let i = 0; i < count; i++) {
      const file = parseCacheFile(dir, `/config-${i}.yaml`);
      writeParseCache(file, "tool", new Map());
      // distinct ages, oldest first (two writes within one clock tick would tie)
      const age = new Date(Date.now() - (count - i) * 1000);
      utimesSync(file, age, age);
    }
    writeFileSync(join(dir, "not-ours.txt"), "kept");
    // THEN only the newest are left (and what is not a cache file), with no temporary file
    const names = readdirSync(dir);
    expect(names.filter((name) => name.endsWith(".bin"))).toHaveLength(KEPT_PARSE_CACHES);
    expect(names).toContain("not-ours.txt");
    expect(names.filter((name) => name.endsWith(".tmp"))).toEqual([]);
    // AND the oldest went, the newest stayed
    expect(existsSync(parseCacheFile(dir, "/config-0.yaml"))).toBe(false);
    expect(existsSync(parseCacheFile(dir, `/config-${count - 1}.yaml`))).toBe(true);
  });

  test("library calls without the option use no cache", () => {
    // GIVEN the main job's cache directory (which other processes, main jobs of other tests, may write)
    const dir = join(dirname(defaultSynthCacheDir()!), PARSE_CACHE_SUBDIR);
    // WHEN a config with text of its own is parsed without the option
    const marker = `Deploys ${process.pid}-${Date.now()}-unique`;
    outcome(generateConfig(ACCOUNTS, ROLES).replace("Deploys", marker));
    // THEN no cache file there holds it (entries keep the parsed text as JSON or v8's one-byte strings)
    for (const file of existsSync(dir) ? readdirSync(dir) : []) {
      let content = "";
      try {
        content = readFileSync(join(dir, file), "latin1");
      } catch {
        continue; // pruned by another writer meanwhile
      }
      expect({ file, holdsIt: content.includes(marker) }).toEqual({ file, holdsIt: false });
    }
  });
});
