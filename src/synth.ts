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
  realpathSync,
  renameSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import type { Config } from "./config/schema";
import { generatedFiles } from "./generated-files";
import type { SynthesizedStack } from "./terraform/synthesized-stacks";
import { formatHcl } from "./terraform/format-hcl";
import { unwrapInterpolationOnlyStrings } from "./terraform/unwrap-interpolations";
import { AccountStack } from "../stacks/account-stack";

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
}

export type SynthStep = "construct" | "synth" | "model" | "format" | "generated" | "install";

export interface SynthResult {
  /** Stack names, in config order. */
  readonly stacks: string[];
  /** The written Terraform files, relative to the outdir. */
  readonly files: string[];
}

/** Builds the construct tree: one stack per account, writing HCL or JSON when synthesized. */
export function buildApp(config: Config, outdir: string, hcl: boolean): App {
  return withoutTokenCreationStacks(() => buildStacks(config, outdir, hcl));
}

function buildStacks(config: Config, outdir: string, hcl: boolean): App {
  // cdktf 0.21's App and stacks read HCL-or-JSON from this variable as they are constructed (App's
  // hclOutput only names the file; an empty value would mean JSON to App), so it is set for exactly
  // that moment.
  const previous = process.env.SYNTH_HCL_OUTPUT;
  process.env.SYNTH_HCL_OUTPUT = String(hcl);
  let app: App;
  try {
    app = new App({ outdir, hclOutput: hcl, stackTraces: false });
    for (const account of config.accounts) {
      new AccountStack(app, {
        gitlab: config.gitlab,
        state: config.state,
        limits: config.limits,
        account,
        ...(config.lock ? { lock: config.lock } : {}),
      });
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
    const app = buildApp(config, scratch, options.hcl);
    stepDone("construct");
    withoutTokenCreationStacks(() => app.synth());
    stepDone("synth");
    // What will be deployed, for the generated files (equal to the HCL parsed back, as the tests check).
    const synthesized: SynthesizedStack[] = app.node.children
      .filter((child) => child instanceof AccountStack)
      .map((stack) => stack.synthesized);
    stepDone("model");
    const stacks = config.accounts.map((account) => account.name);
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
    const files = install(scratch, outdir, stackFiles, [...Object.keys(extra), "manifest.json"]);
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

/** `path` with every symlink resolved, also for the part that does not exist yet. */
function realLocation(path: string): string {
  const missing: string[] = [];
  let existing = path;
  while (!existsSync(existing) && dirname(existing) !== existing) {
    missing.unshift(basename(existing));
    existing = dirname(existing);
  }
  return join(realpathSync(existing), ...missing);
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
