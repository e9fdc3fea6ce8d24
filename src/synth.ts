/**
 * Config → Terraform files. Synthesizes into a scratch directory beside the output and moves the
 * files into place only when every stack has synthesized (and, for HCL, been formatted), so a failure
 * leaves what was there before untouched.
 */
import { App } from "cdktf";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import type { Config } from "./config/schema";
import { generatedFiles } from "./generated-files";
import { parseStackFile } from "./terraform/synthesized-stacks";
import { unwrapInterpolationOnlyStrings } from "./terraform/unwrap-interpolations";
import { AccountStack } from "../stacks/account-stack";

export interface SynthOptions {
  /** Directory that receives `manifest.json` and `stacks/<name>/`. */
  readonly outdir: string;
  /** HCL (`cdk.tf`, formatted like `terraform fmt`) or JSON (`cdk.tf.json`). */
  readonly hcl: boolean;
}

export interface SynthResult {
  /** Stack names, in config order. */
  readonly stacks: string[];
  /** The written Terraform files, relative to the outdir. */
  readonly files: string[];
}

/** Builds the construct tree: one stack per account. */
export function buildApp(config: Config, outdir: string, hcl: boolean): App {
  const app = new App({ outdir, hclOutput: hcl });
  for (const account of config.accounts) {
    new AccountStack(app, { gitlab: config.gitlab, state: config.state, limits: config.limits, account });
  }
  return app;
}

export async function synthesize(config: Config, options: SynthOptions): Promise<SynthResult> {
  const outdir = resolve(options.outdir);
  mkdirSync(dirname(outdir), { recursive: true });
  const scratch = mkdtempSync(join(dirname(outdir), `.${basename(outdir)}.synth-`));
  try {
    // cdktf 0.21 stacks read HCL-or-JSON from this variable only (App's hclOutput just names the file).
    const previous = process.env.SYNTH_HCL_OUTPUT;
    process.env.SYNTH_HCL_OUTPUT = String(options.hcl);
    try {
      buildApp(config, scratch, options.hcl).synth();
    } finally {
      if (previous === undefined) delete process.env.SYNTH_HCL_OUTPUT;
      else process.env.SYNTH_HCL_OUTPUT = previous;
    }
    const stacks = config.accounts.map((account) => account.name);
    const stackFile = options.hcl ? "cdk.tf" : "cdk.tf.json";
    if (options.hcl) await formatStacks(scratch, stacks, stackFile);
    // Reading the files back proves they parse, and gives the generated files what will be deployed.
    const synthesized = await Promise.all(
      stacks.map((stack) => parseStackFile(stack, join(scratch, "stacks", stack, stackFile))),
    );
    const extra = generatedFiles(config, synthesized);
    for (const [file, content] of Object.entries(extra)) writeFileSync(join(scratch, file), content);
    return { stacks, files: install(scratch, outdir, stacks, stackFile, Object.keys(extra)) };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

async function formatStacks(dir: string, stacks: string[], stackFile: string): Promise<void> {
  // Loaded only for HCL output: it is a WebAssembly build of HCL's own formatter (terraform fmt).
  const { format } = await import("@cdktf/hcl-tools");
  for (const stack of stacks) {
    const file = join(dir, "stacks", stack, stackFile);
    const formatted = await format(unwrapInterpolationOnlyStrings(readFileSync(file, "utf8")));
    writeFileSync(file, formatted.replace(/\n{3,}/g, "\n\n").replace(/\n*$/, "\n"));
  }
}

/**
 * Moves the synthesized and generated files into `outdir`. Only files this tool writes are replaced; the other
 * format's stack file is removed (Terraform would read both `cdk.tf` and `cdk.tf.json`), and so are
 * the directories of stacks no longer in the config.
 */
function install(
  scratch: string,
  outdir: string,
  stacks: string[],
  stackFile: string,
  extraFiles: string[],
): string[] {
  const files: string[] = [];
  const stacksDir = join(outdir, "stacks");
  mkdirSync(stacksDir, { recursive: true });
  for (const existing of readdirSync(stacksDir)) {
    if (!stacks.includes(existing)) rmSync(join(stacksDir, existing), { recursive: true, force: true });
  }
  for (const stack of stacks) {
    const target = join(stacksDir, stack);
    mkdirSync(target, { recursive: true });
    // metadata.json comes with HCL output only.
    for (const file of [stackFile, "metadata.json"]) {
      const source = join(scratch, "stacks", stack, file);
      if (existsSync(source)) {
        renameSync(source, join(target, file));
        files.push(join("stacks", stack, file));
      } else {
        rmSync(join(target, file), { force: true });
      }
    }
    rmSync(join(target, stackFile === "cdk.tf" ? "cdk.tf.json" : "cdk.tf"), { force: true });
  }
  for (const file of [...extraFiles, "manifest.json"]) {
    renameSync(join(scratch, file), join(outdir, file));
    files.push(file);
  }
  return files;
}
