/**
 * What lets a synth reuse an account's output: per stack, a SHA-256 of everything that shapes it (its
 * stack props — the account, the shared settings and its slice of the lock — and the tool's fingerprint:
 * its own code, the cdktf, constructs and provider versions, Node's version), recorded with the SHA-256
 * of each file it wrote, its cdktf manifest entry, what the files that span accounts read of it (its
 * StackSummary: ACCESS.md's part, the pipeline jobs' name and region; those files are always
 * regenerated) and whether its account passed the config's checks (so they need not run again).
 *
 * The record lives outside the committed output (`node_modules/.cache/gitlab-oidc-aws/synth/`, one file
 * per output directory), so `terraform/` stays exactly what a full synth writes, on any machine. A stack
 * is reused only when its input hash is the same AND every file it wrote is still on disk with the
 * recorded bytes; a record that is damaged (its checksum line), of another format, or for another
 * output directory counts as absent: that run is a full synth, never stale output.
 */
import { createSha256, sha256Hex } from "./runtime/sha256";
import {
  type BigIntStats,
  closeSync,
  existsSync,
  fstatSync,
  lstatSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from "node:fs";
import { dirname, join, sep } from "node:path";
import type { AccountConfig, Config } from "./config/schema";
import type { GitLabLock } from "./gitlab/lock";
import {
  stateAccessOf,
  stateBucketPolicy,
  type IamDocument,
  type S3StateConfig,
  type StackStateAccess,
} from "./model/state-access";
import { readChecksummed, writeChecksummed } from "./checksummed-file";
import { isPlainRelativePath, isWithin, realLocation } from "./output-files";
import { bundleDigest } from "./runtime/bundle-digest";
import { nearestNodeModules } from "./runtime/compile-cache";
import type { StackSummary } from "./generated-files";

/** The shape of the record; a record of any other format is ignored (a full synth). */
const FORMAT = "gitlab-oidc-aws synth cache 2";

/** Where the records go under the nearest `node_modules`, beside the compile cache. */
export const SYNTH_CACHE_SUBDIR = join(".cache", "gitlab-oidc-aws", "synth");

/** How many records (output directories) are kept; older ones are deleted as new ones are written. */
export const KEPT_RECORDS = 24;

/** One stack's reusable output. */
export interface StackRecord {
  /** SHA-256 of everything that shapes the stack (stackInputHash). */
  readonly input: string;
  /** The stack's files, relative to the output directory → SHA-256 of their bytes. */
  readonly files: Readonly<Record<string, string>>;
  /** Its entry in cdktf's manifest.json. */
  readonly manifest: unknown;
  /** An account stack's: what the generated files read of it (summaryOf its model). */
  readonly summary?: StackSummary;
  /**
   * An account stack's: whether its account passed the config's per-account checks (checkAccount in
   * src/config/rules.ts) when it was synthesized. Those checks read nothing the input hash does not
   * cover, so an account with the same input hash passes them again (checkedAccounts).
   */
  readonly checked?: boolean;
}

/** The default record directory: `node_modules/.cache/gitlab-oidc-aws/synth`, or none without node_modules. */
export function defaultSynthCacheDir(): string | undefined {
  const nodeModules = nearestNodeModules(__dirname);
  return nodeModules && join(nodeModules, SYNTH_CACHE_SUBDIR);
}

/**
 * A JSON-like text of a value that tells apart everything a stack could see: `undefined` from a missing
 * key, -0 from 0; anything that is not plain data (a Map, a class instance, a function) fails loudly
 * rather than hashing as `{}` and letting a changed input look unchanged.
 */
export function canonicalText(value: unknown): string {
  // Plain data without undefined, -0 or non-finite numbers (a parsed config) has the same text as
  // JSON.stringify, which is native: a 5,000-role config is ~4 MB of text, hashed on every run.
  if (isJsonText(value)) return JSON.stringify(value);
  const parts: string[] = [];
  writeCanonical(value, parts);
  return parts.join("");
}

/**
 * Whether JSON.stringify(value) is canonicalText's text: only null, booleans, strings, finite numbers
 * other than -0, arrays without holes or undefined, and objects whose prototype is Object's or none,
 * without undefined values and without a toJSON (all of it checked iteratively, nothing rendered).
 */
function isJsonText(root: unknown): boolean {
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const value = stack.pop();
    if (value === null || typeof value === "boolean" || typeof value === "string") continue;
    if (typeof value === "number") {
      if (!Number.isFinite(value) || Object.is(value, -0)) return false;
      continue;
    }
    if (typeof value !== "object") return false; // undefined, a function, a symbol, a bigint
    if (Array.isArray(value)) {
      if (Object.getPrototypeOf(value) !== Array.prototype) return false;
      // A hole reads as undefined, refused below.
      for (const item of value as unknown[]) stack.push(item);
      continue;
    }
    const prototype = Object.getPrototypeOf(value) as unknown;
    if (prototype !== Object.prototype && prototype !== null) return false;
    if ("toJSON" in value) return false;
    for (const key of Object.keys(value)) stack.push((value as Record<string, unknown>)[key]);
  }
  return true;
}

function writeCanonical(value: unknown, parts: string[]): void {
  if (value === undefined) parts.push("u");
  else if (value === null || typeof value === "boolean" || typeof value === "string") {
    parts.push(JSON.stringify(value));
  } else if (typeof value === "number") {
    // JSON has no -0, NaN or Infinity (it writes 0 and null): their own texts, unlike any other value's.
    parts.push(Object.is(value, -0) ? "-0" : Number.isFinite(value) ? JSON.stringify(value) : String(value));
  } else if (Array.isArray(value)) {
    parts.push("[");
    for (let i = 0; i < value.length; i++) {
      if (i > 0) parts.push(",");
      writeCanonical(value[i], parts);
    }
    parts.push("]");
  } else if (typeof value === "object") {
    const prototype = Object.getPrototypeOf(value) as unknown;
    if (prototype !== Object.prototype && prototype !== null) {
      throw new Error(`synth cache: cannot hash a ${value.constructor?.name ?? "non-plain"} object`);
    }
    parts.push("{");
    let first = true;
    for (const key of Object.keys(value)) {
      if (!first) parts.push(",");
      first = false;
      parts.push(JSON.stringify(key), ":");
      writeCanonical((value as Record<string, unknown>)[key], parts);
    }
    parts.push("}");
  } else throw new Error(`synth cache: cannot hash a ${typeof value}`);
}

/**
 * The lock entries an account's grants look up (and an explicit absence for those it lacks). The stack
 * is built with this slice, not the whole lock, so its output cannot depend on any other entry.
 */
export function lockSlice(lock: GitLabLock, account: AccountConfig): GitLabLock {
  const projects: GitLabLock["projects"] = Object.create(null) as GitLabLock["projects"];
  const groups: GitLabLock["groups"] = Object.create(null) as GitLabLock["groups"];
  for (const grant of account.roles.flatMap((role) => role.allow)) {
    if (grant.project !== undefined && Object.hasOwn(lock.projects, grant.project)) {
      projects[grant.project] = lock.projects[grant.project];
    }
    if (grant.group !== undefined && Object.hasOwn(lock.groups, grant.group)) {
      groups[grant.group] = lock.groups[grant.group];
    }
  }
  return { projects, groups };
}

/** The props of one account's stack: what shapes its output, and all it is built from. */
export interface StackInputs {
  readonly gitlab: Config["gitlab"];
  readonly state: Config["state"];
  readonly limits: Config["limits"];
  readonly account: AccountConfig;
  readonly lock?: GitLabLock;
  /** With state in S3: who may read and write this stack's state (from its own pipeline roles). */
  readonly stateAccess?: StackStateAccess;
}

export function stackInputs(config: Config, account: AccountConfig): StackInputs {
  const state = config.state;
  const access =
    state.type === "s3" ? stateAccessOf(config, state).find((a) => a.stack === account.name) : undefined;
  return {
    gitlab: config.gitlab,
    state,
    limits: config.limits,
    account,
    ...(config.lock ? { lock: lockSlice(config.lock, account) } : {}),
    ...(access ? { stateAccess: access } : {}),
  };
}

/**
 * The props of the state bucket's stack (state in S3): the state settings, the owning account, and
 * the bucket policy, which names every account's planner and deployer, so an edit of any account's
 * pipeline roles or of the state settings changes this stack's hash. Undefined without state in S3.
 */
export interface StateStackInputs {
  readonly state: S3StateConfig;
  readonly account: AccountConfig;
  readonly bucketPolicy: IamDocument;
}

export function stateStackInputs(config: Config): StateStackInputs | undefined {
  const state = config.state;
  if (state.type !== "s3") return undefined;
  const owner = config.accounts.find((account) => account.name === state.account);
  if (owner === undefined)
    throw new Error(`state.account "${state.account}" is not an account of the config`);
  return { state, account: owner, bucketPolicy: stateBucketPolicy(config, state) };
}

/**
 * SHA-256 of a stack's inputs under this tool (toolFingerprint) in this output format. The inputs'
 * shape tells an account stack from the state bucket's (one has `bucketPolicy`), so neither record
 * can stand for the other.
 */
export function stackInputHash(
  fingerprint: string,
  hcl: boolean,
  inputs: StackInputs | StateStackInputs,
): string {
  return sha256Hex(canonicalText({ fingerprint, hcl, inputs }));
}

/** Files under `dir`, recursively, sorted: the tool's own code. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .flatMap((entry) =>
      entry.isDirectory() ? filesUnder(join(dir, entry.name)) : entry.isFile() ? [join(dir, entry.name)] : [],
    );
}

/** The version in the nearest package.json at or above the file `require.resolve(name)` names. */
/**
 * `name@version` of the package `request` resolves to: the nearest package.json above it that has a name.
 * Not necessarily `request`'s own name: a loader may map it to another package (scripts/cdktn-alias.cjs
 * maps cdktf to CDK Terrain's cdktn), and that package is what shapes the output.
 */
function resolvedPackage(request: string): string {
  for (let dir = dirname(require.resolve(request)); dirname(dir) !== dir; dir = dirname(dir)) {
    const file = join(dir, "package.json");
    if (!existsSync(file)) continue;
    const manifest = JSON.parse(readFileSync(file, "utf8")) as { name?: string; version?: string };
    if (typeof manifest.name === "string") return `${manifest.name}@${String(manifest.version)}`;
  }
  throw new Error(`synth cache: no package.json found for ${request}`);
}

let fingerprint: string | undefined;

/**
 * The bundle this code runs from (scripts/bundle.mjs defines GITLAB_OIDC_AWS_BUNDLE in a bundle, as
 * its path under the project, and a bundle's modules all have the bundle as their file), or undefined
 * for the per-file build and the sources under jest.
 */
function runningBundle(): string | undefined {
  const bundle = process.env.GITLAB_OIDC_AWS_BUNDLE;
  return bundle && __filename.endsWith(`${sep}${bundle.split("/").join(sep)}`) ? __filename : undefined;
}

/**
 * SHA-256 of what shapes every stack besides its inputs: the bytes of the tool's code (the bundle it
 * runs from, which holds cdktf's and the providers' code too; else `src/` and `stacks/` beside this
 * module, the per-file dist/ or the TypeScript under jest, with the versions of cdktf, constructs and
 * the providers), Node's version and cdktf's context variable.
 */
export function toolFingerprint(): string {
  if (fingerprint !== undefined) return fingerprint;
  const root = join(__dirname, "..");
  const hash = createSha256();
  hash.update(`${FORMAT}\0${process.version}\0${process.env.CDKTF_CONTEXT_JSON ?? ""}\0`);
  const bundle = runningBundle();
  if (bundle !== undefined) {
    // One file holds the tool's code with cdktf's, the providers' and every other module it runs:
    // its bytes are the code (hashing dist/src instead read ~140 files on every run, ~15 ms). Their
    // digest as the build recorded it, or of the bytes the launcher read to run it, when it did.
    const launched = (globalThis as Record<symbol, unknown>)[
      Symbol.for("gitlab-oidc-aws.launched-bundles")
    ] as Map<string, Buffer> | undefined;
    fingerprint = hash.update(`bundle\0${bundleDigest(bundle, launched?.get(bundle))}`).digest("hex");
    return fingerprint;
  }
  for (const name of ["cdktf", "constructs", "@cdktf/provider-aws", "@cdktf/provider-tls"]) {
    hash.update(`${name}=${resolvedPackage(name)}\0`);
  }
  for (const file of [...filesUnder(join(root, "src")), ...filesUnder(join(root, "stacks"))]) {
    hash.update(`${file.slice(root.length)}\0`).update(readFileSync(file));
  }
  fingerprint = hash.digest("hex");
  return fingerprint;
}

/**
 * The record directory of an output directory (its real path) and output format: one file per stack
 * (stackRecordFile), so a run rewrites only the records of the stacks it synthesized, and `run.json`.
 */
export function recordDirFor(cacheDir: string, outdir: string, hcl: boolean): string {
  return join(cacheDir, sha256Hex(`${outdir}\0${hcl}`).slice(0, 32));
}

/** A stack's record file in a record directory (named by a hash: a stack name is not a file name). */
export function stackRecordFile(dir: string, stack: string): string {
  return join(dir, `stack-${sha256Hex(stack).slice(0, 32)}.json`);
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** A map of file → SHA-256, as records hold them. */
const isDigests = (value: unknown): value is Record<string, string> =>
  isObject(value) && Object.values(value).every((digest) => typeof digest === "string");

/** Output files (plain relative paths, never `..` or absolute) → SHA-256, as records hold them. */
const isFileDigests = (value: unknown): value is Record<string, string> =>
  isDigests(value) && Object.keys(value).every(isPlainRelativePath);

const isLines = (value: unknown): value is string[] =>
  Array.isArray(value) && value.every((line) => typeof line === "string");

/** A summary as recorded: its access part's section is the record's tail (readRecords). */
type RecordedSummary = Omit<StackSummary, "access"> & { readonly access: { readonly summary: string[] } };

function isRecordedSummary(value: unknown): value is RecordedSummary {
  return (
    isObject(value) &&
    typeof value.name === "string" &&
    (value.region === undefined || typeof value.region === "string") &&
    isObject(value.access) &&
    isLines(value.access.summary) &&
    Object.keys(value.access).length === 1
  );
}

function isStackRecord(value: unknown): value is StackRecord {
  return (
    isObject(value) &&
    typeof value.input === "string" &&
    isFileDigests(value.files) &&
    isObject(value.manifest) &&
    (value.summary === undefined || isRecordedSummary(value.summary)) &&
    (value.checked === undefined || typeof value.checked === "boolean")
  );
}

/**
 * What a whole run wrote, for the check that skips a run whose inputs are all unchanged (upToDate):
 * the key of its raw inputs (runKeyOf) and every file it left in the output directory.
 */
export interface RunRecord {
  /** runKeyOf the config and lock files the run read. */
  readonly key: string;
  /** Every file the run wrote (stacks, generated files, manifest, its synthesized-files.json) → SHA-256. */
  readonly files: Readonly<Record<string, string>>;
  /** What the run reports: its stacks, in config order, and how many roles they hold. */
  readonly stacks: readonly string[];
  readonly roles: number;
  /**
   * Stat signatures (statSignature) of files whose bytes were checked against `files` at that stat,
   * taken when their ctime was already SETTLE_MS old: a file with the same signature has those bytes.
   */
  readonly stats?: Readonly<Record<string, string>>;
}

function isRunRecord(value: unknown): value is RunRecord {
  return (
    isObject(value) &&
    typeof value.key === "string" &&
    isFileDigests(value.files) &&
    isLines(value.stacks) &&
    typeof value.roles === "number" &&
    (value.stats === undefined || isDigests(value.stats))
  );
}

/**
 * A record file's JSON and the bytes after it, or undefined when it is missing, damaged (checksum) or
 * not valid JSON. The file is the SHA-256 of the rest, a newline, the JSON (JSON.stringify writes no
 * raw newline), and optionally a newline and the tail (bytes kept as they are: ACCESS.md's part).
 */
function readChecked(file: string): { readonly json: unknown; readonly tail?: Buffer } | undefined {
  const body = readChecksummed(file);
  if (body === undefined) return undefined;
  const end = body.indexOf(0x0a);
  try {
    const json = JSON.parse(body.toString("utf8", 0, end === -1 ? body.length : end)) as unknown;
    return end === -1 ? { json } : { json, tail: body.subarray(end + 1) };
  } catch {
    return undefined;
  }
}

/** The record's content when it is of this format and for `outdir`, with its tail. */
function recordFor(
  file: string,
  outdir: string,
): { readonly value: Record<string, unknown>; readonly tail?: Buffer } | undefined {
  const read = readChecked(file);
  const value = read?.json;
  return isObject(value) && value.format === FORMAT && value.outdir === outdir
    ? { value, ...(read!.tail ? { tail: read!.tail } : {}) }
    : undefined;
}

/**
 * The records in `dir` of the stacks named, for `outdir`, by stack name; a stack has none when its file
 * is missing, damaged (checksum), of another format, for another output directory or another stack.
 */
export function readRecords(dir: string, outdir: string, names: readonly string[]): Map<string, StackRecord> {
  const stacks = new Map<string, StackRecord>();
  for (const name of names) {
    const read = recordFor(stackRecordFile(dir, name), outdir);
    const record = read?.value.record;
    if (read?.value.stack !== name || !isStackRecord(record)) continue;
    // An account stack's record has its section of ACCESS.md as its tail; any other has no tail.
    const summary = record.summary as RecordedSummary | undefined;
    if ((summary === undefined) !== (read.tail === undefined)) continue;
    stacks.set(
      name,
      summary && read.tail
        ? { ...record, summary: { ...summary, access: { ...summary.access, section: read.tail } } }
        : record,
    );
  }
  return stacks;
}

/** The run record: small and apart, so the up-to-date check reads no models. */
const runFileOf = (dir: string) => join(dir, "run.json");

/**
 * How old a file's ctime must be before its stat signature may stand for its bytes: a write within the
 * same tick of a coarse clock would leave the signature as it was.
 */
export const SETTLE_MS = 2000;

/** The clock that stamps a filesystem's ctimes, read at one moment (filesystemInstant). */
export interface FilesystemInstant {
  /** The device the probe file was on: the instant says nothing about files on another. */
  readonly dev: bigint;
  /** The probe file's ctime. */
  readonly ctimeNs: bigint;
}

/**
 * The ctime clock of `dir`'s filesystem now: the ctime of a file created there and deleted at once, or
 * undefined when none can be created. A file on that device whose ctime is earlier than this was last
 * changed in an earlier tick of the same clock, so any change after this moment gives it another ctime,
 * whatever the clock's granularity (git's "racily clean" rule). It spares a run that follows a synth
 * within SETTLE_MS from reading every file again on each run until they settle.
 */
export function filesystemInstant(dir: string): FilesystemInstant | undefined {
  const probe = join(dir, `clock.${process.pid}.probe`);
  try {
    const fd = openSync(probe, "wx");
    try {
      const stat = fstatSync(fd, { bigint: true });
      return { dev: stat.dev, ctimeNs: stat.ctimeNs };
    } finally {
      closeSync(fd);
      rmSync(probe, { force: true });
    }
  } catch {
    return undefined;
  }
}

/**
 * Whether a file's stat signature may stand for the bytes read after that stat: its ctime is older than
 * SETTLE_MS (`settledBeforeNs`), or earlier than an instant of its own filesystem's clock read *before*
 * the stat (a change after the stat, even within the stat's tick, could not keep that ctime).
 */
export function settles(
  stat: Pick<BigIntStats, "dev" | "ctimeNs">,
  settledBeforeNs: bigint,
  instant?: FilesystemInstant,
): boolean {
  return (
    stat.ctimeNs < settledBeforeNs ||
    (instant !== undefined && stat.dev === instant.dev && stat.ctimeNs < instant.ctimeNs)
  );
}

/**
 * Whether every file is a regular file (not a symlink, which a synth would replace) inside `outdir`
 * holding the recorded bytes; a file whose stat signature is among `known` is not read again. The
 * signatures of files that settle (settles; `instant` read before this call) are added to `settled`.
 */
function filesIntact(
  outdir: string,
  files: Readonly<Record<string, string>>,
  known: Readonly<Record<string, string>> = {},
  settled: Record<string, string> = {},
  settleMs = SETTLE_MS,
  instant?: FilesystemInstant,
): boolean {
  const entries = Object.entries(files);
  const settledBefore = BigInt(Date.now() - settleMs) * 1_000_000n;
  return (
    entries.length > 0 &&
    entries.every(([file, digest]) => {
      const path = join(outdir, file);
      try {
        // Taken before the bytes are read: a write after it changes the ctime the signature holds.
        const stat = lstatSync(path, { bigint: true });
        if (!stat.isFile() || !isWithin(outdir, realLocation(dirname(path)))) return false;
        const signature = statSignature(stat);
        const wasSettled = known[file] === signature;
        if (!wasSettled && sha256Hex(readFileSync(path)) !== digest) return false;
        // A signature settled before stays settled (the same ctime): it is not dropped while recent.
        if (wasSettled || settles(stat, settledBefore, instant)) settled[file] = signature;
        return true;
      } catch {
        return false;
      }
    })
  );
}

/** Whether some of the run's files have no settled signature (the next check reads them). */
export const hasUnsettledFiles = (run: RunRecord): boolean =>
  Object.keys(run.files).some((file) => run.stats?.[file] === undefined);

/**
 * Size, inode, mtime and ctime (ns): any write, rename or replacement of the file changes its ctime,
 * which nothing in user space can set back (a `touch -d` sets the mtime only).
 */
const statSignature = (stat: BigIntStats): string =>
  `${stat.size}:${stat.ino}:${stat.mtimeNs}:${stat.ctimeNs}`;

/** The run record of an output directory, if there is a valid one. */
export function readRunRecord(dir: string, outdir: string): RunRecord | undefined {
  const run = recordFor(runFileOf(dir), outdir)?.value.run;
  return isRunRecord(run) ? run : undefined;
}

/**
 * The stat signatures of `previous` that still stand for `files`: those of files with the same digest
 * (a file's bytes unchanged; if it was rewritten, its signature will not match and it is read again).
 */
export function keptStats(
  previous: RunRecord | undefined,
  files: Readonly<Record<string, string>>,
): Record<string, string> | undefined {
  if (previous?.stats === undefined) return undefined;
  const kept = Object.entries(previous.stats).filter(([file]) => files[file] === previous.files[file]);
  return kept.length > 0 ? Object.fromEntries(kept) : undefined;
}

/** The bytes of a config file and of its lock (absent: no lock). */
export interface RawInputs {
  readonly config: Buffer;
  readonly lock?: Buffer;
}

/**
 * Reads a config file and its lock once: the main job derives the run key, the source digests and the
 * config itself from the same bytes (fewer reads of a 3.6 MB file, and no edit between two reads
 * recorded under the other's key). Undefined when the config cannot be read (the loader reports that).
 */
export function readRawInputs(configFile: string, lockFile: string): RawInputs | undefined {
  const read = (file: string): Buffer | undefined => {
    try {
      return readFileSync(file);
    } catch {
      return undefined;
    }
  };
  const config = read(configFile);
  if (config === undefined) return undefined;
  const lock = read(lockFile);
  return lock === undefined ? { config } : { config, lock };
}

/**
 * The key of a run's raw inputs: the tool (toolFingerprint), the output format, and the bytes of the
 * config file and of its lock (absent is not empty). Undefined when the config cannot be read (the
 * normal path then reports that).
 */
export function runKeyOf(
  configFile: string,
  lockFile: string,
  hcl: boolean,
  inputs = readRawInputs(configFile, lockFile),
): string | undefined {
  if (inputs === undefined) return undefined;
  const { config, lock } = inputs;
  const hash = createSha256().update(`${toolFingerprint()}\0${hcl}\0${configFile}\0`);
  hash.update(`${config.length}\0`).update(config);
  if (lock === undefined) hash.update("no lock");
  else hash.update(`${lock.length}\0`).update(lock);
  return hash.digest("hex");
}

/**
 * When the last run into `outdir` had the same raw inputs (runKeyOf) and every file it wrote still has
 * its bytes, what it reported: the output is what this run would write, so nothing needs doing.
 */
export function upToDate(
  cacheDir: string,
  outdir: string,
  hcl: boolean,
  key: string,
  settleMs = SETTLE_MS,
): { readonly stacks: readonly string[]; readonly roles: number } | undefined {
  const dir = recordDirFor(cacheDir, outdir, hcl);
  const run = readRunRecord(dir, outdir);
  if (run === undefined || run.key !== key) return undefined;
  // Read before any file's stat (settles); only when some file will be read anyway.
  const instant = hasUnsettledFiles(run) ? filesystemInstant(dir) : undefined;
  const settled: Record<string, string> = {};
  if (!filesIntact(outdir, run.files, run.stats, settled, settleMs, instant)) return undefined;
  // The signatures of the files just read: the next check need not read them.
  if (canonicalText(settled) !== canonicalText(run.stats ?? {})) {
    writeChecked(runFileOf(dir), { format: FORMAT, outdir, run: { ...run, stats: settled } });
  }
  return { stacks: run.stacks, roles: run.roles };
}

/**
 * Whether a stack's recorded output can stand for a fresh synth: same inputs, only files the stack may
 * write (`expected`, its stack file among them), each still holding the recorded bytes (a hand-edited
 * or deleted file is synthesized again), and for an account stack (`withSummary`) its summary.
 *
 * A file is read only when its stat signature is not the one the last run record kept for the same
 * bytes (`previousRun`: its signature stands for its digest there, which must be the record's); the
 * signatures of files read here and settled are added to `settled`, for the next run record.
 */
export function stillValid(
  record: StackRecord | undefined,
  input: string,
  outdir: string,
  expected: readonly string[],
  withSummary: boolean,
  previousRun?: RunRecord,
  settled: Record<string, string> = {},
  settleMs = SETTLE_MS,
  instant?: FilesystemInstant,
): boolean {
  if (record === undefined || record.input !== input) return false;
  if ((record.summary !== undefined) !== withSummary) return false;
  const files = Object.keys(record.files);
  if (!files.includes(expected[0]!) || !files.every((file) => expected.includes(file))) return false;
  const known: Record<string, string> = {};
  for (const [file, digest] of Object.entries(record.files)) {
    const signature = previousRun?.stats?.[file];
    if (signature !== undefined && previousRun?.files[file] === digest) known[file] = signature;
  }
  return filesIntact(outdir, record.files, known, settled, settleMs, instant);
}

/** Deletes the records of an output directory (an extension run: nothing may be reused after it). */
export function forgetRecords(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/**
 * Writes the records of the stacks `fresh` names (each atomically: a temporary file renamed over the old
 * one), deletes those of stacks no longer in `stacks`, writes the run record, and keeps the newest
 * KEPT_RECORDS record directories (one per output directory). A cache that cannot be written only costs
 * the next run its speed, so failures are ignored.
 */
export function writeRecords(
  dir: string,
  outdir: string,
  stacks: ReadonlyMap<string, StackRecord>,
  fresh: ReadonlySet<string>,
  run?: RunRecord,
): void {
  // An old run record goes first, so that one never outlives a failed write of the stack records
  // (it would still be checked against every file, but the records then describe the same run).
  const runFile = runFileOf(dir);
  rmSync(runFile, { force: true });
  const kept = new Set([...stacks.keys()].map((name) => stackRecordFile(dir, name)));
  try {
    for (const name of readdirSync(dir)) {
      if (!kept.has(join(dir, name))) rmSync(join(dir, name), { force: true });
    }
  } catch {
    // no directory yet
  }
  for (const [stack, record] of stacks) {
    if (!fresh.has(stack)) continue;
    // ACCESS.md's section goes after the JSON as the bytes it is (readRecords puts it back).
    const section = record.summary?.access.section;
    const json = section
      ? { ...record, summary: { ...record.summary, access: { summary: record.summary!.access.summary } } }
      : record;
    const written = writeChecked(
      stackRecordFile(dir, stack),
      { format: FORMAT, outdir, stack, record: json },
      section,
    );
    if (!written) return;
  }
  if (run !== undefined) writeChecked(runFile, { format: FORMAT, outdir, run });
  try {
    pruneRecords(dirname(dir));
  } catch {
    // another run pruning at the same time
  }
}

/** Writes a checksummed record (with its tail, see readChecked) atomically; false when it could not be written. */
function writeChecked(file: string, value: unknown, tail?: Uint8Array): boolean {
  const json = Buffer.from(JSON.stringify(value));
  return writeChecksummed(file, tail ? [json, Buffer.from("\n"), tail] : [json]);
}

/** A record directory's name (recordDirFor): anything else in the cache directory is not ours to prune. */
const RECORD_DIR_NAME = /^[0-9a-f]{32}$/;

function pruneRecords(cacheDir: string): void {
  const dirs = readdirSync(cacheDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && RECORD_DIR_NAME.test(entry.name))
    .map((entry) => ({
      path: join(cacheDir, entry.name),
      mtime: statSync(join(cacheDir, entry.name)).mtimeMs,
    }))
    .sort((a, b) => b.mtime - a.mtime);
  for (const { path } of dirs.slice(KEPT_RECORDS)) rmSync(path, { recursive: true, force: true });
}
