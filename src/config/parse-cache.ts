/**
 * The store behind the config parse cache: what the readers made of each `accounts:` item of the last
 * config read (src/config/cached-config.ts keeps each account's schema output), so that a run parses
 * only the items whose bytes changed (issue 25: one role changed in 5,000 should not cost a 3.6 MB YAML
 * read). Only the main job uses it (LoadOptions.parseCache); every other caller reads the whole text.
 *
 * One file per config path under `node_modules/.cache/gitlab-oidc-aws/config/` (beside the synth
 * records), the newest KEPT_PARSE_CACHES kept, holding only the entries the last read used. An entry's
 * key is the SHA-256 of the salt's digest (the tool's fingerprint, which the caller passes, the readers'
 * versions and what an entry holds) and the item's bytes. The file is the SHA-256 of the rest, a
 * newline, then FORMAT, the salt's hash and the entries; a file that is damaged, truncated, of another
 * format or salt counts as empty (every item is parsed), and it is replaced atomically (a temporary
 * file renamed over it).
 */
import { createSha256, sha256Hex } from "../runtime/sha256";
import { readdirSync, rmSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { readChecksummed, writeChecksummed } from "../checksummed-file";

/**
 * `node:v8`, required when an entry needs it (YAML's `.inf`, `.nan`, `-0`): loading it brings in
 * `net` and the heap utilities, a few ms of every start-up that a config of plain values does without.
 */
function v8(): typeof import("node:v8") {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require("node:v8") as typeof import("node:v8");
}

const FORMAT = "gitlab-oidc-aws parsed config 2\n";

/** How many config files' caches are kept; older ones are deleted as new ones are written. */
export const KEPT_PARSE_CACHES = 24;

/** Where the main job keeps them, under the cache directory beside the synth records. */
export const PARSE_CACHE_SUBDIR = "config";

/** What the fast reader needs to reuse the items of an earlier read of the same config file. */
export interface ParseCacheOptions {
  /** The cache file (parseCacheFile). */
  readonly file: string;
  /**
   * What else shapes a parse besides the bytes and the reader's options: the tool's fingerprint
   * (toolFingerprint in src/synth-cache.ts: the code that reads and validates the data).
   */
  readonly salt: string;
  /** Told how the text was read: a test's way to see that unchanged items were not parsed again. */
  readonly onRead?: (read: ParseCacheRead) => void;
}

/** How a cached read went. */
export interface ParseCacheRead {
  /** Items parsed from their text. */
  readonly parsed: number;
  /** Items taken from the cache. */
  readonly reused: number;
  /**
   * The settings around the accounts: parsed (with the schema, built for it), or taken from the cache
   * (when they read as before); absent when the whole text was read.
   */
  readonly settings?: "parsed" | "reused";
  /** Why the whole text was read instead (the split or an item was not certain), if it was. */
  readonly whole?: string;
}

/** The cache file of a config file (its absolute path) under `dir`. */
export function parseCacheFile(dir: string, configFile: string): string {
  return join(dir, `${sha256Hex(configFile).slice(0, 32)}.bin`);
}

/**
 * One run's use of a cache file: the entries read from it, the entries this run used or added (the next
 * file: what the current text needs, so the file never outgrows one config's items), and their keys.
 */
export class ParseCacheSession {
  private readonly previous: ReadonlyMap<string, CachedItem>;
  private readonly next = new Map<string, CachedItem>();
  private readonly saltDigest: Buffer;
  private added = 0;

  /** `salt`: the options' salt with whatever else the caller's readers depend on (their versions). */
  constructor(
    readonly options: ParseCacheOptions,
    private readonly salt: string,
  ) {
    this.saltDigest = createSha256().update(salt).digest();
    this.previous = readParseCache(options.file, salt);
  }

  /** The key of what the salt's readers make of `text`: SHA-256 of the salt's digest and the text. */
  keyOf(text: string): string {
    return createSha256().update(this.saltDigest).update(text).digest("hex");
  }

  /** The data kept under `key`, if any (a fresh copy each time). */
  get(key: string): unknown {
    const item = this.next.get(key) ?? this.previous.get(key);
    if (!item) return undefined;
    this.next.set(key, item);
    return itemData(item);
  }

  /** Keeps `data` under `key` for the next run (unless it is not plain data: see cachedItem). */
  set(key: string, data: unknown): void {
    const item = cachedItem(data);
    if (!item) return;
    this.next.set(key, item);
    this.added++;
  }

  /** Writes the next file when this run added or dropped an entry. */
  commit(): void {
    if (this.added > 0 || this.next.size !== this.previous.size) {
      writeParseCache(this.options.file, this.salt, this.next);
    }
  }
}

/** One cached item: how its data is stored ("j" JSON, "v" v8.serialize) and the bytes. */
export interface CachedItem {
  readonly kind: "j" | "v";
  readonly bytes: Uint8Array;
}

/**
 * The entries of a cache file (key → item) when it is intact and of this format and salt; an empty
 * map otherwise.
 */
export function readParseCache(file: string, salt: string): Map<string, CachedItem> {
  const entries = new Map<string, CachedItem>();
  const body = readChecksummed(file);
  if (body === undefined) return entries;
  const header = `${FORMAT}${sha256Hex(salt)}\n`;
  if (body.toString("latin1", 0, header.length) !== header) return entries;
  // Entries: a 32-byte key, the kind (one byte), the length (4 bytes, big-endian) and the bytes.
  let at = header.length;
  while (at < body.length) {
    if (at + 37 > body.length) return new Map();
    const key = body.toString("hex", at, at + 32);
    const kind = String.fromCharCode(body[at + 32]!);
    const length = body.readUInt32BE(at + 33);
    if ((kind !== "j" && kind !== "v") || at + 37 + length > body.length) return new Map();
    entries.set(key, { kind, bytes: body.subarray(at + 37, at + 37 + length) });
    at += 37 + length;
  }
  return entries;
}

/**
 * Writes `entries` as the cache file (atomically) and keeps the newest KEPT_PARSE_CACHES files of its
 * directory. A cache that cannot be written only costs the next run its speed: failures are ignored.
 */
export function writeParseCache(file: string, salt: string, entries: ReadonlyMap<string, CachedItem>): void {
  const parts: Uint8Array[] = [Buffer.from(`${FORMAT}${sha256Hex(salt)}\n`, "latin1")];
  for (const [key, item] of entries) {
    const head = Buffer.alloc(37);
    head.write(key, 0, 32, "hex");
    head.write(item.kind, 32, 1, "latin1");
    head.writeUInt32BE(item.bytes.length, 33);
    parts.push(head, item.bytes);
  }
  // Hashed and written part by part: copying ~3 MB into one buffer first cost more than the write.
  if (!writeChecksummed(file, parts)) return;
  try {
    pruneParseCaches(dirname(file));
  } catch {
    // another run pruning at the same time
  }
}

/** A cache file's name (parseCacheFile): anything else in the directory is not ours to prune. */
const CACHE_FILE_NAME = /^[0-9a-f]{32}\.bin$/;

function pruneParseCaches(dir: string): void {
  const files = readdirSync(dir)
    .filter((name) => CACHE_FILE_NAME.test(name))
    .map((name) => ({ path: join(dir, name), mtime: statSync(join(dir, name)).mtimeMs }))
    .sort((a, b) => b.mtime - a.mtime);
  for (const { path } of files.slice(KEPT_PARSE_CACHES)) rmSync(path, { force: true });
}

/**
 * An item's data as cached: JSON when it reads back exactly (JSON.parse is ~5× faster than
 * v8.deserialize here), v8.serialize when it holds what JSON cannot keep (YAML's `.inf`, `.nan`, `-0`,
 * an `undefined` value); undefined (not cached) for anything but plain data (an object whose prototype
 * is not Object's would come back as a plain object).
 */
export function cachedItem(data: unknown): CachedItem | undefined {
  const plain = plainness(data);
  if (plain === "other") return undefined;
  return plain === "json"
    ? { kind: "j", bytes: Buffer.from(asciiJson(data), "latin1") }
    : { kind: "v", bytes: v8().serialize(data) };
}

/** JSON with every character past ASCII escaped (`\u00fc`): read back as latin1, faster than UTF-8. */
function asciiJson(data: unknown): string {
  return JSON.stringify(data).replace(
    /[\u007f-\uffff]/g,
    (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** The data of a cached item. */
export function itemData(item: CachedItem): unknown {
  return item.kind === "j"
    ? JSON.parse(Buffer.from(item.bytes.buffer, item.bytes.byteOffset, item.bytes.length).toString("latin1"))
    : v8().deserialize(item.bytes);
}

/**
 * "json" when JSON.parse(JSON.stringify(data)) gives data back (strings, booleans, null, finite numbers
 * but -0, arrays, objects of Object's prototype); "v8" when v8.deserialize is needed for that (other
 * numbers, undefined); "other" for anything else (a class instance, a null-prototype map, a function).
 */
function plainness(data: unknown): "json" | "v8" | "other" {
  let json = true;
  const stack: unknown[] = [data];
  while (stack.length > 0) {
    const value = stack.pop();
    if (typeof value === "number") {
      if (!Number.isFinite(value) || Object.is(value, -0)) json = false;
    } else if (value === undefined) {
      json = false;
    } else if (Array.isArray(value)) {
      if (Object.getPrototypeOf(value) !== Array.prototype) return "other";
      stack.push(...(value as unknown[]));
    } else if (typeof value === "object" && value !== null) {
      if (Object.getPrototypeOf(value) !== Object.prototype) return "other";
      stack.push(...Object.values(value));
    } else if (typeof value !== "string" && typeof value !== "boolean" && value !== null) {
      return "other";
    }
  }
  return json ? "json" : "v8";
}
