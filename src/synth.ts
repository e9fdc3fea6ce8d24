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
  const app = new App({ outdir, hclOutput: hcl, stackTraces: false });
  // cdktf 0.21 stacks take HCL-or-JSON from this variable as they are constructed (App's hclOutput only
  // names the file), so it is set for exactly that moment.
  const previous = process.env.SYNTH_HCL_OUTPUT;
  process.env.SYNTH_HCL_OUTPUT = String(hcl);
  try {
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
  const outdir = resolve(options.outdir);
  mkdirSync(dirname(outdir), { recursive: true });
  const scratch = mkdtempSync(join(dirname(outdir), `.${basename(outdir)}.synth-`));
  try {
    const app = buildApp(config, scratch, options.hcl);
    stepDone("construct");
    app.synth();
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
    for (const [file, content] of Object.entries(extra)) writeFileSync(join(scratch, file), content);
    stepDone("generated");
    const files = install(scratch, outdir, stacks, stackFile, Object.keys(extra));
    stepDone("install");
    return { stacks, files };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

function formatStacks(dir: string, stacks: string[], stackFile: string): void {
  for (const stack of stacks) {
    const file = join(dir, "stacks", stack, stackFile);
    writeFileSync(file, formatHcl(unwrapInterpolationOnlyStrings(readFileSync(file, "utf8"))));
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
