/**
 * Config → Terraform files. Synthesizes into a scratch directory beside the output's real location
 * (through symlinks, so each move is a rename on one filesystem: atomic) and moves the files into place
 * only when every stack has synthesized (and, for HCL, been formatted), so a failure leaves what was
 * there before untouched. `synthesized-files.json` records what a synth wrote; the next one deletes
 * only what that record lists and it no longer writes, so anything else under the output survives.
 */
import { App } from "cdktf";
import type { Manifest } from "cdktf/lib/manifest";
import { createSha256, sha256Hex } from "./runtime/sha256";
import {
  closeSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmdirSync,
  rmSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { basename, dirname, join, resolve, sep } from "node:path";
import type { Config } from "./config/schema";
import { generatedFilesOf, summaryOf, type GeneratedContent, type StackSummary } from "./generated-files";
import {
  filesOfManifest,
  readWrittenRecord,
  realLocation,
  refuseOutside,
  WRITTEN_FILES_RECORD,
  type WrittenRecord,
} from "./output-files";
import {
  forgetRecords,
  keptStats,
  recordDirFor,
  writeRecords,
  type RunRecord,
  type StackRecord,
} from "./synth-cache";
import { planSynth, stackFilesOf, type SynthPlan } from "./synth-plan";
import { passedChecks } from "./config/checked";
import { buildApp, isStateBucketStack, synthApp, type SynthStep } from "./synth-stack";
import {
  synthesizeHere,
  synthesizeStacks,
  SynthWorkers,
  synthWorkerCount,
  type ParallelOptions,
  type StacksOptions,
} from "./synth-workers";
import { AccountStack } from "../stacks/account-stack";
import { STATE_STACK } from "./model/state-access";
import type { Extension } from "./extension";

export { OutputFilesError, WRITTEN_FILES_RECORD } from "./output-files";

/** The stacks a config synthesizes: one per account, in config order, then the state bucket's (s3). */
export function stackNamesOf(config: Config): string[] {
  return [
    ...config.accounts.map((account) => account.name),
    ...(config.state.type === "s3" ? [STATE_STACK] : []),
  ];
}

export interface SynthOptions {
  /** Directory that receives `manifest.json` and `stacks/<name>/`. */
  readonly outdir: string;
  /** HCL (`cdk.tf`, formatted like `terraform fmt`) or JSON (`cdk.tf.json`). */
  readonly hcl: boolean;
  /**
   * Where the records that let a later synth reuse an unchanged stack's output are kept
   * (src/synth-cache.ts; `defaultSynthCacheDir()` is node_modules/.cache/gitlab-oidc-aws/synth).
   * @default none: every stack is synthesized, nothing is recorded
   */
  readonly cacheDir?: string;
  /**
   * Whether recorded output may be reused; false synthesizes every stack (and still records them).
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
   * Called after each stack, synthesized or reused, with how many are done and how many there are.
   * @default no callback
   */
  readonly onProgress?: (done: number, total: number) => void;
  /**
   * Called once at the end with the time each step took in total over all stacks, in ms (the
   * benchmark's stopwatch).
   * @default no callback
   */
  readonly onStepTimes?: (times: Readonly<Record<SynthStep, number>>) => void;
  /**
   * The team's extension (gitlab-oidc.extend.ts, src/extension): its hook runs in every account stack.
   * An extension is code, which no hash of the config can vouch for: with one, every stack is
   * synthesized on one App (as without incremental synth), and the reuse records are dropped.
   * @default no extension
   */
  readonly extension?: Extension;
  /**
   * Digests of the inputs (`config`, `lock`), kept in the record so `npm run explain` can tell whether
   * the output is older than the config (sourceDigests in src/config/load.ts).
   * @default none recorded
   */
  readonly sources?: Readonly<Record<string, string>>;
  /**
   * The plan of this run (planSynth in src/synth-plan.ts), when the caller made it already (the main
   * job, while checking the config): for this config object, outdir, format, cacheDir and reuse.
   * @default made here
   */
  readonly plan?: SynthPlan;
}

export { buildApp, type SynthStep } from "./synth-stack";
export { withoutTokenCreationStacks } from "./runtime/token-stacks";
export type { ParallelOptions } from "./synth-workers";

export interface SynthResult {
  /** Stack names, in config order (the state bucket's last). */
  readonly stacks: string[];
  /** The written Terraform files, relative to the outdir. */
  readonly files: string[];
  /** The stacks whose recorded output was reused (unchanged inputs and files), in config order. */
  readonly reused: string[];
}

/** What a synthesized (or reused) stack contributes to the whole output. */
interface StackOutput {
  readonly manifest: unknown;
  /** Account stacks only: what the generated files read of it. */
  readonly summary?: StackSummary;
}

/** A synth under way: the scratch directory its files go to, its plan, and what is done so far. */
interface SynthRun {
  /** The output directory's real location. */
  readonly outdir: string;
  readonly scratch: string;
  /** Where this output's records go (none: nothing is recorded). */
  readonly recordDir?: string;
  /** Undefined with an extension (every stack on one App). */
  readonly plan?: SynthPlan;
  /** Stack names, in config order. */
  readonly stacks: string[];
  readonly times: Record<SynthStep, number>;
  readonly lap: (step: SynthStep) => void;
}

/**
 * Writes one stack per account and, with state in S3, the state bucket's. Each stack is synthesized on
 * its own App (so progress can be told and each tree is garbage once written) or, with `cacheDir`,
 * reused from the previous synth when its inputs and files are unchanged (src/synth-cache.ts);
 * manifest.json, ACCESS.md and the pipeline's jobs always come fresh from every stack's model. The
 * result is byte-identical to a full synth. With an extension, everything is synthesized on one App.
 * In this thread only: synthesizeInParallel also uses workers for a large config.
 */
export function synthesize(config: Config, options: SynthOptions): SynthResult {
  const run = startRun(config, options);
  try {
    if (!run.plan) {
      const outputs = synthesizeAll(config, options.extension!, run.scratch, options.hcl, run.lap);
      options.onProgress?.(run.stacks.length, run.stacks.length);
      return finishRun(config, options, run, outputs);
    }
    const plan = run.plan;
    const todo = plan.stacks.filter((stack) => !stack.reused);
    const records = synthesizeHere(todo, stacksOptions(run, options, todo.length));
    if (todo.length === 0) options.onProgress?.(plan.stacks.length, plan.stacks.length);
    return finishRun(config, options, run, [], records);
  } finally {
    rmSync(run.scratch, { recursive: true, force: true });
  }
}

/**
 * synthesize, with the stacks to synthesize shared between this thread and `workers` worker threads
 * (./synth-workers.ts) that run `workerScript`: for a config with thousands of roles on a machine with
 * cores to spare (synthWorkerCount decides). Writes the same bytes as synthesize. With an extension, or
 * no worker, it is synthesize.
 */
export async function synthesizeInParallel(
  config: Config,
  options: SynthOptions & ParallelOptions,
): Promise<SynthResult> {
  if (options.extension) {
    if (options.workers instanceof SynthWorkers) await options.workers.close();
    return synthesize(config, options);
  }
  let run: SynthRun;
  try {
    run = startRun(config, options);
  } catch (error) {
    if (options.workers instanceof SynthWorkers) await options.workers.close();
    throw error;
  }
  try {
    const plan = run.plan!;
    const todo = plan.stacks.filter((stack) => !stack.reused);
    const records = await synthesizeStacks(todo, {
      ...stacksOptions(run, options, todo.length),
      workers: options.workers ?? synthWorkerCount(todo),
      workerScript: options.workerScript,
      ...(options.inThisThread !== undefined ? { inThisThread: options.inThisThread } : {}),
    });
    if (todo.length === 0) options.onProgress?.(plan.stacks.length, plan.stacks.length);
    return finishRun(config, options, run, [], records);
  } finally {
    rmSync(run.scratch, { recursive: true, force: true });
  }
}

/** Where a run's stacks are written and how progress counts them (reused stacks are done already). */
function stacksOptions(
  run: SynthRun,
  options: SynthOptions,
  synthesizing: number,
): Pick<StacksOptions, "scratch" | "hcl" | "lap" | "onProgress"> {
  const onProgress = options.onProgress;
  const total = run.plan!.stacks.length;
  const reused = total - synthesizing;
  return {
    scratch: run.scratch,
    hcl: options.hcl,
    lap: run.lap,
    ...(onProgress ? { onProgress: (done: number) => onProgress(reused + done, total) } : {}),
  };
}

/** The scratch directory beside the output, the record directory and the plan: all a synth starts from. */
function startRun(config: Config, options: SynthOptions): SynthRun {
  const times: Record<SynthStep, number> = {
    reuse: 0,
    construct: 0,
    synth: 0,
    format: 0,
    generated: 0,
    install: 0,
    record: 0,
  };
  // process.hrtime, not `performance`: the first use of that global loads Node's perf_hooks modules.
  const msNow = () => Number(process.hrtime.bigint()) / 1e6;
  let clock = msNow();
  const lap = (step: SynthStep) => {
    const now = msNow();
    times[step] += now - clock;
    clock = now;
  };
  const outdir = realLocation(resolve(options.outdir));
  mkdirSync(dirname(outdir), { recursive: true });
  let recordDir = options.cacheDir && recordDirFor(options.cacheDir, outdir, options.hcl);
  if (recordDir && options.extension) {
    // Records from before the extension must not outlive it: a later run without it starts afresh.
    forgetRecords(recordDir);
    recordDir = undefined;
  }
  const plan = options.extension ? undefined : planOf(config, options, outdir, recordDir);
  lap("reuse");
  const scratch = mkdtempSync(join(dirname(outdir), `.${basename(outdir)}.synth-`));
  return {
    outdir,
    scratch,
    ...(recordDir ? { recordDir } : {}),
    ...(plan ? { plan } : {}),
    stacks: stackNamesOf(config),
    times,
    lap,
  };
}

/**
 * The rest of a synth once its stacks are written to the scratch directory (`synthesized`: the
 * records of those synthesized, by name; `outputs` instead with an extension): manifest.json and the
 * generated files, the move into place, and the records.
 */
function finishRun(
  config: Config,
  options: SynthOptions,
  run: SynthRun,
  allOutputs: StackOutput[],
  synthesized?: ReadonlyMap<string, StackRecord>,
): SynthResult {
  const { outdir, scratch, stacks, plan, lap } = run;
  const records = new Map<string, StackRecord>();
  const reused: string[] = [];
  const inPlace = new Set<string>();
  let outputs = allOutputs;
  if (plan && synthesized) {
    const checked = passedChecks(config);
    for (const stack of plan.stacks) {
      if (stack.reused) {
        // The recorded files are on disk with the recorded bytes: they stay where they are.
        for (const file of Object.keys(stack.record!.files)) inPlace.add(file);
        records.set(stack.name, stack.record!);
        reused.push(stack.name);
      } else {
        const record = synthesized.get(stack.name);
        if (!record) throw new Error(`synth: stack ${stack.name} was not synthesized`);
        records.set(stack.name, record.summary ? { ...record, checked } : record);
      }
    }
    outputs = [...records.values()];
  }
  writeManifest(
    scratch,
    options.hcl,
    outputs.map((output) => output.manifest),
  );
  // A reused stack's summary (its share of ACCESS.md among it) is its record's: its model and
  // partition, all it depends on, are unchanged.
  const extra = generatedFilesOf(
    config,
    outputs.flatMap((output) => (output.summary ? [output.summary] : [])),
  );
  for (const [file, content] of Object.entries(extra)) {
    mkdirSync(dirname(join(scratch, file)), { recursive: true });
    writeGenerated(join(scratch, file), content);
  }
  lap("generated");
  const files = install(
    scratch,
    outdir,
    stacks.flatMap((stack) => stackFilesOf(stack, options.hcl)),
    [...Object.keys(extra), "manifest.json"],
    options.sources,
    inPlace,
  );
  lap("install");
  if (run.recordDir) {
    // Every file's digest is known (the stacks' from their records, the rest from what was written)
    // but the record of written files and the manifest, which are small.
    const digests: Record<string, string> = Object.fromEntries(
      [...records.values()].flatMap((record) => Object.entries(record.files)),
    );
    for (const [file, content] of Object.entries(extra)) digests[file] = digestOf(content);
    for (const file of ["manifest.json", WRITTEN_FILES_RECORD])
      digests[file] = sha256Hex(readFileSync(join(outdir, file)));
    const fresh = new Set(stacks.filter((name) => !reused.includes(name)));
    const runRec = runRecord(config, files, digests, options.runKey);
    // The signatures kept from the last run, and those of the reused stacks' files just checked.
    const stats = { ...keptStats(plan?.previousRun, runRec?.files ?? {}), ...plan?.settled };
    const withStats = runRec && Object.keys(stats).length > 0 ? { ...runRec, stats } : runRec;
    writeRecords(run.recordDir, outdir, records, fresh, withStats);
  }
  lap("record");
  options.onStepTimes?.(run.times);
  return { stacks, files, reused };
}

/** Writes a generated file: its text, or its chunks one after another (never joined in memory). */
function writeGenerated(path: string, content: GeneratedContent): void {
  if (typeof content === "string") {
    writeFileSync(path, content);
    return;
  }
  const fd = openSync(path, "w");
  try {
    for (const chunk of content) {
      for (let at = 0; at < chunk.length; ) at += writeSync(fd, chunk, at, chunk.length - at);
    }
  } finally {
    closeSync(fd);
  }
}

/** SHA-256 of a generated file's bytes. */
function digestOf(content: GeneratedContent): string {
  if (typeof content === "string") return sha256Hex(content);
  const hash = createSha256();
  for (const chunk of content) hash.update(chunk);
  return hash.digest("hex");
}

/** The plan the caller made (checked to be for this run), or a new one. */
function planOf(
  config: Config,
  options: SynthOptions,
  outdir: string,
  recordDir: string | undefined,
): SynthPlan {
  const plan = options.plan;
  if (plan === undefined) return planSynth(config, options);
  if (
    plan.config !== config ||
    plan.outdir !== outdir ||
    plan.hcl !== options.hcl ||
    plan.recordDir !== recordDir ||
    plan.reuse !== (options.reuse !== false)
  )
    throw new Error("synth: the plan was made for another config, output directory or format");
  return plan;
}

/**
 * Every stack on one App, as before incremental synth: with an extension (code that may reach across
 * stacks), nothing about the stacks is assumed beyond what cdktf itself does.
 */
function synthesizeAll(
  config: Config,
  extension: Extension,
  scratch: string,
  hcl: boolean,
  lap: (step: SynthStep) => void,
): StackOutput[] {
  const app = buildApp(config, scratch, hcl, extension);
  lap("construct");
  synthApp(app);
  lap("synth");
  lap("format");
  return app.node.children.flatMap((child) =>
    child instanceof AccountStack || isStateBucketStack(child)
      ? [
          {
            manifest: app.manifest.stacks[child.node.id],
            ...(child instanceof AccountStack
              ? { summary: summaryOf(child.synthesized, child.account.partition) }
              : {}),
          },
        ]
      : [],
  );
}

/** The record of the run as a whole: every file it left in `outdir` with its hash (none without a key). */
function runRecord(
  config: Config,
  files: readonly string[],
  digests: Readonly<Record<string, string>>,
  key: string | undefined,
): RunRecord | undefined {
  if (key === undefined) return undefined;
  const written: Record<string, string> = {};
  for (const file of [...files, WRITTEN_FILES_RECORD]) {
    const digest = digests[file];
    if (digest === undefined) throw new Error(`synth: no digest of ${file} for the run record`);
    written[file] = digest;
  }
  return {
    key,
    files: written,
    stacks: stackNamesOf(config),
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

/**
 * What the previous synth wrote: its record, or for an output written before records existed, the
 * files its cdktf manifest names and the generated files.
 */
function previouslyWritten(outdir: string, generated: readonly string[]): readonly string[] {
  const record = readWrittenRecord(outdir);
  if (record) return record.files;
  const manifest = filesOfManifest(outdir);
  return manifest ? [...manifest, ...generated] : [];
}

/**
 * Moves the written files from `scratch` into `outdir` (each a rename, atomic), records them, then
 * deletes what the previous synth wrote and this one did not, and the directories that leaves empty.
 * Files `inPlace` (a reused stack's, checked to hold the recorded bytes) are written already: they stay.
 * Nothing else under `outdir` is touched.
 */
function install(
  scratch: string,
  outdir: string,
  stackFiles: string[],
  generated: string[],
  sources: Readonly<Record<string, string>> | undefined,
  inPlace: ReadonlySet<string>,
): string[] {
  const files = [...stackFiles, ...generated].filter(
    (file) => inPlace.has(file) || existsSync(join(scratch, file)),
  );
  // Every check before the first move: a refusal leaves the output as it was.
  const previous = previouslyWritten(outdir, generated);
  const kept = new Set(files);
  const stale = previous.filter((file) => !kept.has(file) && file !== WRITTEN_FILES_RECORD);
  for (const file of [...files, WRITTEN_FILES_RECORD]) refuseOutside(outdir, file, "write");
  for (const file of stale) refuseOutside(outdir, file, "delete");
  const record: WrittenRecord = { files, ...(sources ? { sources } : {}) };
  writeFileSync(join(scratch, WRITTEN_FILES_RECORD), `${JSON.stringify(record, null, 2)}\n`);
  for (const file of [...files.filter((f) => !inPlace.has(f)), WRITTEN_FILES_RECORD]) {
    mkdirSync(dirname(join(outdir, file)), { recursive: true });
    renameSync(join(scratch, file), join(outdir, file));
  }
  for (const file of stale) {
    const path = join(outdir, file);
    if (!existsSync(path) && !isSymlink(path)) continue;
    if (lstatSync(path).isDirectory()) continue; // a record lists files only
    rmSync(path, { force: true });
    removeEmptyParents(dirname(path), outdir);
  }
  return files;
}

function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

/** Removes `dir` and its parents up to (not including) `outdir` while they are empty. */
function removeEmptyParents(dir: string, outdir: string): void {
  for (
    let current = dir;
    current !== outdir && current.startsWith(outdir + sep);
    current = dirname(current)
  ) {
    // A symlinked folder is not ours to remove (and rmdir cannot remove a link).
    if (!existsSync(current) || isSymlink(current) || readdirSync(current).length > 0) return;
    rmdirSync(current);
  }
}
