/**
 * Config → Terraform files. Synthesizes into a scratch directory beside the output's real location
 * (through symlinks, so each move is a rename on one filesystem: atomic) and moves the files into place
 * only when every stack has synthesized (and, for HCL, been formatted), so a failure leaves what was
 * there before untouched. `synthesized-files.json` records what a synth wrote; the next one deletes
 * only what that record lists and it no longer writes, so anything else under the output survives.
 */
import { App } from "cdktf";
import type { Manifest } from "cdktf/lib/manifest";
import {
  copyFileSync,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import type { Config } from "./config/schema";
import { generatedFiles } from "./generated-files";
import { realOutdir } from "./synth-location";
import {
  readRecords,
  recordFileFor,
  sha256,
  stackInputHash,
  stackInputs,
  stillValid,
  toolFingerprint,
  writeRecords,
  type RunRecord,
  type StackInputs,
  type StackRecord,
} from "./synth-cache";
import { formatHcl } from "./terraform/format-hcl";
import { unwrapInterpolationOnlyStrings } from "./terraform/unwrap-interpolations";
import { AccountStack } from "../stacks/account-stack";

export interface SynthOptions {
  /** Directory that receives `manifest.json` and `stacks/<name>/`. */
  readonly outdir: string;
  /** HCL (`cdk.tf`, formatted like `terraform fmt`) or JSON (`cdk.tf.json`). */
  readonly hcl: boolean;
  /**
   * Where the records that let a later synth reuse an unchanged account's output are kept
   * (src/synth-cache.ts; `defaultSynthCacheDir()` is node_modules/.cache/gitlab-oidc-aws/synth).
   * @default none: every account is synthesized, nothing is recorded
   */
  readonly cacheDir?: string;
  /**
   * Whether recorded output may be reused; false synthesizes every account (and still records them).
   * @default true
   */
  readonly reuse?: boolean;
  /**
   * The key of the raw inputs this config was read from (runKeyOf in src/synth-cache.ts), recorded with
   * every file written, so that an unchanged next run can skip everything (upToDate).
   * @default none: the run is not recorded as a whole
   */
  readonly runKey?: string;
  /**
   * Called after each account, synthesized or reused, with how many are done and how many there are.
   * @default no callback
   */
  readonly onProgress?: (done: number, total: number) => void;
  /**
   * Called once at the end with the time each step took in total over all accounts, in ms (the
   * benchmark's stopwatch).
   * @default no callback
   */
  readonly onStepTimes?: (times: Readonly<Record<SynthStep, number>>) => void;
}

/**
 * The steps of a synth: per account `reuse` (hashing its inputs, checking its recorded files),
 * `construct`, `synth` (cdktf's App.synth()), `format`; then `generated` (files spanning accounts, and
 * manifest.json), `install` (the move into place) and `record` (the reuse record).
 */
export type SynthStep = "reuse" | "construct" | "synth" | "format" | "generated" | "install" | "record";

export interface SynthResult {
  /** Stack names, in config order. */
  readonly stacks: string[];
  /** The written Terraform files, relative to the outdir. */
  readonly files: string[];
  /** The stacks whose recorded output was reused (unchanged inputs and files), in config order. */
  readonly reused: string[];
}

/** Builds the construct tree: one stack per account, writing HCL or JSON when synthesized. */
export function buildApp(config: Config, outdir: string, hcl: boolean): App {
  return withoutTokenCreationStacks(() =>
    buildStacks(
      config.accounts.map((account) => stackInputs(config, account)),
      outdir,
      hcl,
    ),
  );
}

function buildStacks(inputs: readonly StackInputs[], outdir: string, hcl: boolean): App {
  // cdktf 0.21's App and stacks read HCL-or-JSON from this variable as they are constructed (App's
  // hclOutput only names the file; an empty value would mean JSON to App), so it is set for exactly
  // that moment.
  const previous = process.env.SYNTH_HCL_OUTPUT;
  process.env.SYNTH_HCL_OUTPUT = String(hcl);
  let app: App;
  try {
    app = new App({ outdir, hclOutput: hcl, stackTraces: false });
    for (const props of inputs) new AccountStack(app, props);
  } finally {
    if (previous === undefined) delete process.env.SYNTH_HCL_OUTPUT;
    else process.env.SYNTH_HCL_OUTPUT = previous;
  }
  return app;
}

/**
 * Writes one stack per account. Each account is synthesized on its own App (so progress can be told
 * and each tree is garbage once written) or, with `cacheDir`, reused from the previous synth when its
 * inputs and files are unchanged (src/synth-cache.ts); manifest.json, ACCESS.md and the pipeline's jobs
 * always come fresh from every stack's model. The result is byte-identical to a full synth.
 */
export function synthesize(config: Config, options: SynthOptions): SynthResult {
  const times: Record<SynthStep, number> = {
    reuse: 0,
    construct: 0,
    synth: 0,
    format: 0,
    generated: 0,
    install: 0,
    record: 0,
  };
  let clock = performance.now();
  const lap = (step: SynthStep) => {
    const now = performance.now();
    times[step] += now - clock;
    clock = now;
  };
  const outdir = realOutdir(options.outdir);
  mkdirSync(dirname(outdir), { recursive: true });
  const scratch = mkdtempSync(join(dirname(outdir), `.${basename(outdir)}.synth-`));
  try {
    const stackFile = options.hcl ? "cdk.tf" : "cdk.tf.json";
    const recordFile = options.cacheDir && recordFileFor(options.cacheDir, outdir, options.hcl);
    const previous =
      recordFile && options.reuse !== false
        ? readRecords(recordFile, outdir)
        : new Map<string, StackRecord>();
    const fingerprint = recordFile ? toolFingerprint() : "";
    const records = new Map<string, StackRecord>();
    const reused: string[] = [];
    lap("reuse");
    for (const account of config.accounts) {
      const inputs = stackInputs(config, account);
      const input = recordFile ? stackInputHash(fingerprint, options.hcl, inputs) : "";
      const record = previous.get(account.name);
      if (recordFile && stillValid(record, input, outdir)) {
        // The recorded files are the ones on disk: linked into the scratch directory, they move back
        // onto themselves with the rest.
        for (const file of Object.keys(record!.files)) linkInto(outdir, scratch, file);
        records.set(account.name, record!);
        reused.push(account.name);
        lap("reuse");
      } else {
        records.set(account.name, synthesizeStack(inputs, scratch, options.hcl, stackFile, input, lap));
      }
      options.onProgress?.(records.size, config.accounts.length);
    }
    const stacks = config.accounts.map((account) => account.name);
    writeManifest(
      scratch,
      options.hcl,
      [...records.values()].map((record) => record.manifest),
    );
    const models = [...records.values()].map((record) => record.model);
    const extra = generatedFiles(config, models);
    for (const [file, content] of Object.entries(extra)) writeFileSync(join(scratch, file), content);
    lap("generated");
    // metadata.json comes with HCL output only.
    const stackFiles = stacks.flatMap((stack) =>
      [stackFile, "metadata.json"].map((f) => join("stacks", stack, f)),
    );
    const files = install(scratch, outdir, stackFiles, [...Object.keys(extra), "manifest.json"]);
    lap("install");
    if (recordFile)
      writeRecords(recordFile, outdir, records, runRecord(config, outdir, files, options.runKey));
    lap("record");
    options.onStepTimes?.(times);
    return { stacks, files, reused };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** Synthesizes one account's stack into `scratch` (formatted, for HCL) and returns its record. */
function synthesizeStack(
  inputs: StackInputs,
  scratch: string,
  hcl: boolean,
  stackFile: string,
  input: string,
  lap: (step: SynthStep) => void,
): StackRecord {
  const app = withoutTokenCreationStacks(() => buildStacks([inputs], scratch, hcl));
  const stack = app.node.children[0] as AccountStack;
  lap("construct");
  withoutTokenCreationStacks(() => app.synth());
  lap("synth");
  const name = inputs.account.name;
  const written = [stackFile, "metadata.json"]
    .map((file) => join("stacks", name, file))
    .filter((file) => existsSync(join(scratch, file)));
  const files: Record<string, string> = {};
  for (const file of written) {
    let content = readFileSync(join(scratch, file), "utf8");
    if (hcl && file.endsWith(stackFile)) {
      content = formatHcl(unwrapInterpolationOnlyStrings(content));
      writeFileSync(join(scratch, file), content);
    }
    files[file] = sha256(content);
  }
  lap("format");
  // What will be deployed, for the generated files (equal to the HCL parsed back, as the tests check).
  return { input, files, manifest: app.manifest.stacks[name], model: stack.synthesized };
}

/** The record of the run as a whole: every file it left in `outdir` with its hash (none without a key). */
function runRecord(
  config: Config,
  outdir: string,
  files: readonly string[],
  key: string | undefined,
): RunRecord | undefined {
  if (key === undefined) return undefined;
  const digests: Record<string, string> = {};
  for (const file of [...files, WRITTEN_FILES_RECORD])
    digests[file] = sha256(readFileSync(join(outdir, file)));
  return {
    key,
    files: digests,
    stacks: config.accounts.map((account) => account.name),
    roles: config.accounts.reduce((sum, account) => sum + account.roles.length, 0),
  };
}

/** cdktf's manifest.json for all stacks, written by cdktf's own Manifest (same bytes as App.synth()). */
function writeManifest(scratch: string, hcl: boolean, entries: readonly unknown[]): void {
  const { manifest } = new App({ outdir: scratch, hclOutput: hcl, stackTraces: false });
  for (const entry of entries) {
    const stack = entry as Manifest["stacks"][string];
    manifest.stacks[stack.name] = stack;
  }
  manifest.writeToFile();
}

/** A hard link of `outdir/file` at `scratch/file` (a copy where links are refused). */
function linkInto(outdir: string, scratch: string, file: string): void {
  const target = join(scratch, file);
  mkdirSync(dirname(target), { recursive: true });
  try {
    linkSync(join(outdir, file), target);
  } catch {
    copyFileSync(join(outdir, file), target);
  }
}

/**
 * Runs `work` with cdktf's token creation stacks left empty. cdktf 0.21 records a full-depth stack trace
 * for every token it makes (each attribute reference, function call, lazy value, block list), into a plain
 * object, and formats it at once: at thousands of roles that is seconds of the synth and much garbage.
 * It reads them only to decorate its own errors about unresolvable tokens (the App is built with
 * `stackTraces: false` anyway). So while `work` runs, a stack captured into anything that is not an Error
 * formats as "" (cdktf then records no frames); an Error's stack is formatted as before.
 */
export function withoutTokenCreationStacks<T>(work: () => T): T {
  const previous = Error.prepareStackTrace;
  Error.prepareStackTrace = (error: unknown, frames: NodeJS.CallSite[]): unknown => {
    if (!(error instanceof Error)) return "";
    if (previous) return previous(error, frames);
    // Node's own format, which assigning Error.prepareStackTrace replaces.
    return [String(error), ...frames.map((frame) => `    at ${String(frame)}`)].join("\n");
  };
  try {
    return work();
  } finally {
    Error.prepareStackTrace = previous;
  }
}

/** The record of what a synth wrote, relative to the output directory. */
export const WRITTEN_FILES_RECORD = "synthesized-files.json";

/**
 * What the previous synth wrote: its record, or for an output written before records existed, the
 * files its cdktf manifest names (both stack file formats) and the generated files.
 */
function previouslyWritten(outdir: string, generated: readonly string[]): string[] {
  const record = join(outdir, WRITTEN_FILES_RECORD);
  if (existsSync(record)) return (JSON.parse(readFileSync(record, "utf8")) as { files: string[] }).files;
  const manifest = join(outdir, "manifest.json");
  if (!existsSync(manifest)) return [];
  const stacks = Object.values(
    (JSON.parse(readFileSync(manifest, "utf8")) as { stacks?: Record<string, { workingDirectory: string }> })
      .stacks ?? {},
  );
  return [
    ...stacks.flatMap(({ workingDirectory }) =>
      ["cdk.tf", "cdk.tf.json", "metadata.json"].map((file) => join(workingDirectory, file)),
    ),
    ...generated,
  ];
}

/** Whether a recorded path names a file inside the output directory (a record is a file anyone can edit). */
function inside(outdir: string, file: string): boolean {
  const path = relative(outdir, resolve(outdir, file));
  return path !== "" && !isAbsolute(path) && path.split(sep)[0] !== "..";
}

/**
 * Moves the written files from `scratch` into `outdir` (each a rename, atomic), records them, then
 * deletes what the previous synth wrote and this one did not, and the directories that leaves empty.
 * Nothing else under `outdir` is touched.
 */
function install(scratch: string, outdir: string, stackFiles: string[], generated: string[]): string[] {
  const files = [...stackFiles, ...generated].filter((file) => existsSync(join(scratch, file)));
  const previous = previouslyWritten(outdir, generated);
  writeFileSync(join(scratch, WRITTEN_FILES_RECORD), `${JSON.stringify({ files }, null, 2)}\n`);
  for (const file of [...files, WRITTEN_FILES_RECORD]) {
    mkdirSync(dirname(join(outdir, file)), { recursive: true });
    renameSync(join(scratch, file), join(outdir, file));
  }
  const kept = new Set(files);
  for (const stale of previous.filter((file) => !kept.has(file) && inside(outdir, file))) {
    const path = join(outdir, stale);
    if (existsSync(path) && lstatSync(path).isDirectory()) continue; // a record lists files only
    rmSync(path, { force: true });
    removeEmptyParents(dirname(path), outdir);
  }
  return files;
}

/** Removes `dir` and its parents up to (not including) `outdir` while they are empty. */
function removeEmptyParents(dir: string, outdir: string): void {
  for (
    let current = dir;
    current !== outdir && current.startsWith(outdir + sep);
    current = dirname(current)
  ) {
    if (!existsSync(current) || readdirSync(current).length > 0) return;
    rmdirSync(current);
  }
}
