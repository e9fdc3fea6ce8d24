/**
 * Config → Terraform files. Synthesizes into a scratch directory beside the output's real location
 * (through symlinks, so each move is a rename on one filesystem: atomic) and moves the files into place
 * only when every stack has synthesized (and, for HCL, been formatted), so a failure leaves what was
 * there before untouched. `synthesized-files.json` records what a synth wrote; the next one deletes
 * only what that record lists and it no longer writes, so anything else under the output survives.
 */
import { App } from "cdktf";
import {
  existsSync,
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
import { basename, dirname, join, resolve, sep } from "node:path";
import type { Config } from "./config/schema";
import { generatedFiles } from "./generated-files";
import {
  filesOfManifest,
  readWrittenRecord,
  realLocation,
  refuseOutside,
  WRITTEN_FILES_RECORD,
  type WrittenRecord,
} from "./output-files";
import type { SynthesizedStack } from "./terraform/synthesized-stacks";
import { withFastCdktf } from "./terraform/cdktf-hooks";
import { formatHcl } from "./terraform/format-hcl";
import { unwrapInterpolationOnlyStrings } from "./terraform/unwrap-interpolations";
import { AccountStack } from "../stacks/account-stack";
import { StateBucketStack } from "../stacks/state-bucket-stack";
import { STATE_STACK, stateAccessOf, stateBucketPolicy } from "./model/state-access";
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
   * Called as each step ends (`construct`, `synth`, `model`, `format`, `generated`, `install`): the
   * benchmark's stopwatch.
   * @default no callback
   */
  readonly onStepDone?: (step: SynthStep) => void;
  /**
   * The team's extension (gitlab-oidc.extend.ts, src/extension): its hook runs in every account stack.
   * @default no extension
   */
  readonly extension?: Extension;
  /**
   * Digests of the inputs (`config`, `lock`), kept in the record so `npm run explain` can tell whether
   * the output is older than the config (sourceDigests in src/config/load.ts).
   * @default none recorded
   */
  readonly sources?: Readonly<Record<string, string>>;
}

export type SynthStep = "construct" | "synth" | "model" | "format" | "generated" | "install";

export interface SynthResult {
  /** Stack names, in config order. */
  readonly stacks: string[];
  /** The written Terraform files, relative to the outdir. */
  readonly files: string[];
}

/** Builds the construct tree: one stack per account, writing HCL or JSON when synthesized. */
export function buildApp(config: Config, outdir: string, hcl: boolean, extension?: Extension): App {
  return withoutTokenCreationStacks(() => withFastCdktf(() => buildStacks(config, outdir, hcl, extension)));
}

function buildStacks(config: Config, outdir: string, hcl: boolean, extension?: Extension): App {
  // cdktf 0.21's App and stacks read HCL-or-JSON from this variable as they are constructed (App's
  // hclOutput only names the file; an empty value would mean JSON to App), so it is set for exactly
  // that moment.
  const previous = process.env.SYNTH_HCL_OUTPUT;
  process.env.SYNTH_HCL_OUTPUT = String(hcl);
  let app: App;
  try {
    app = new App({ outdir, hclOutput: hcl, stackTraces: false });
    const state = config.state;
    const stateAccess = state.type === "s3" ? stateAccessOf(config, state) : [];
    for (const account of config.accounts) {
      const access = stateAccess.find((a) => a.stack === account.name);
      new AccountStack(app, {
        gitlab: config.gitlab,
        state,
        limits: config.limits,
        account,
        ...(config.lock ? { lock: config.lock } : {}),
        ...(access ? { stateAccess: access } : {}),
        ...(extension ? { extension: { hook: extension, config } } : {}),
      });
    }
    if (state.type === "s3") {
      const owner = config.accounts.find((account) => account.name === state.account);
      if (owner === undefined)
        throw new Error(`state.account "${state.account}" is not an account of the config`);
      new StateBucketStack(app, { state, account: owner, bucketPolicy: stateBucketPolicy(config, state) });
    }
  } finally {
    if (previous === undefined) delete process.env.SYNTH_HCL_OUTPUT;
    else process.env.SYNTH_HCL_OUTPUT = previous;
  }
  return app;
}

export function synthesize(config: Config, options: SynthOptions): SynthResult {
  const stepDone = options.onStepDone ?? (() => undefined);
  const outdir = realLocation(resolve(options.outdir));
  mkdirSync(dirname(outdir), { recursive: true });
  const scratch = mkdtempSync(join(dirname(outdir), `.${basename(outdir)}.synth-`));
  try {
    const app = buildApp(config, scratch, options.hcl, options.extension);
    stepDone("construct");
    withoutTokenCreationStacks(() => withFastCdktf(() => app.synth()));
    stepDone("synth");
    // What will be deployed, for the generated files (equal to the HCL parsed back, as the tests check).
    const synthesized: SynthesizedStack[] = app.node.children
      .filter((child) => child instanceof AccountStack)
      .map((stack) => stack.synthesized);
    stepDone("model");
    const stacks = stackNamesOf(config);
    const stackFile = options.hcl ? "cdk.tf" : "cdk.tf.json";
    if (options.hcl) formatStacks(scratch, stacks, stackFile);
    stepDone("format");
    const extra = generatedFiles(config, synthesized);
    for (const [file, content] of Object.entries(extra)) {
      mkdirSync(dirname(join(scratch, file)), { recursive: true });
      writeFileSync(join(scratch, file), content);
    }
    stepDone("generated");
    // metadata.json comes with HCL output only.
    const stackFiles = stacks.flatMap((stack) =>
      [stackFile, "metadata.json"].map((f) => join("stacks", stack, f)),
    );
    const files = install(
      scratch,
      outdir,
      stackFiles,
      [...Object.keys(extra), "manifest.json"],
      options.sources,
    );
    stepDone("install");
    return { stacks, files };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
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

function formatStacks(dir: string, stacks: string[], stackFile: string): void {
  for (const stack of stacks) {
    const file = join(dir, "stacks", stack, stackFile);
    writeFileSync(file, formatHcl(unwrapInterpolationOnlyStrings(readFileSync(file, "utf8"))));
  }
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
 * Nothing else under `outdir` is touched.
 */
function install(
  scratch: string,
  outdir: string,
  stackFiles: string[],
  generated: string[],
  sources: Readonly<Record<string, string>> | undefined,
): string[] {
  const files = [...stackFiles, ...generated].filter((file) => existsSync(join(scratch, file)));
  // Every check before the first move: a refusal leaves the output as it was.
  const previous = previouslyWritten(outdir, generated);
  const kept = new Set(files);
  const stale = previous.filter((file) => !kept.has(file) && file !== WRITTEN_FILES_RECORD);
  for (const file of [...files, WRITTEN_FILES_RECORD]) refuseOutside(outdir, file, "write");
  for (const file of stale) refuseOutside(outdir, file, "delete");
  const record: WrittenRecord = { files, ...(sources ? { sources } : {}) };
  writeFileSync(join(scratch, WRITTEN_FILES_RECORD), `${JSON.stringify(record, null, 2)}\n`);
  for (const file of [...files, WRITTEN_FILES_RECORD]) {
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
