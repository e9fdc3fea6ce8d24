/**
 * One stack, from its props to its files: the construct tree (an account's stack or the state bucket's),
 * cdktf's synth of it, and the formatted stack file with its digest, manifest entry and summary (a
 * StackRecord, src/synth-cache.ts). synthesize (./synth.ts) runs this for each stack that is not
 * reused, in this thread or, for large configs, also in a worker (./synth-workers.ts): the same function
 * on the same props writes the same bytes wherever it runs.
 */
import { App, Manifest } from "cdktf";
import { withoutTokenCreationStacks } from "./runtime/token-stacks";
import { readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import type { Config } from "./config/schema";
import { summaryOf } from "./generated-files";
import {
  stackInputs,
  stateStackInputs,
  type StackInputs,
  type StackRecord,
  type StateStackInputs,
} from "./synth-cache";
import { sha256Hex } from "./runtime/sha256";
import { isStateStack, stackFilesOf } from "./synth-plan";
import { withFastCdktf } from "./terraform/cdktf-hooks";
import { withFormattedHcl } from "./terraform/formatted-hcl";
import { withReplaced } from "./terraform/scoped-patch";
import { AccountStack } from "../stacks/account-stack";
import type * as StateBucketStackModule from "../stacks/state-bucket-stack";
import { STATE_STACK } from "./model/state-access";
import type { Extension } from "./extension";

/**
 * The steps of a synth: per stack `reuse` (hashing its inputs, checking its recorded files),
 * `construct`, `synth` (cdktf's App.synth(), HCL formatted as it is rendered), `format` (the files'
 * digests); then `generated` (files spanning accounts, and manifest.json), `install` (the move into
 * place) and `record` (the reuse record).
 */
export type SynthStep = "reuse" | "construct" | "synth" | "format" | "generated" | "install" | "record";

/** Builds the construct tree: one stack per account (and the state bucket's), writing HCL or JSON. */
export function buildApp(config: Config, outdir: string, hcl: boolean, extension?: Extension): App {
  const stacks: StackProps[] = config.accounts.map((account) => ({
    ...stackInputs(config, account),
    ...(extension ? { extension: { hook: extension, config } } : {}),
  }));
  const state = stateStackInputs(config);
  return withoutTokenCreationStacks(() =>
    withFastCdktf(() => buildStacks(state ? [...stacks, state] : stacks, outdir, hcl)),
  );
}

/** The props of one stack: an account's (with the extension, if any) or the state bucket's. */
export type StackProps =
  | (StackInputs & { readonly extension?: { hook: Extension; config: Config } })
  | StateStackInputs;

/**
 * stacks/state-bucket-stack, loaded for a config with state in S3 only: it brings the S3 resources'
 * provider classes (~140 KB), whose module code every other synth would run at start-up for nothing.
 */
let stateBucketModule: typeof StateBucketStackModule | undefined;
const stateBucketStackModule = (): typeof StateBucketStackModule =>
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  (stateBucketModule ??= require("../stacks/state-bucket-stack") as typeof StateBucketStackModule);

/** Whether `construct` is the state bucket's stack (none exists before a state-in-S3 synth loads it). */
export const isStateBucketStack = (construct: unknown): boolean =>
  stateBucketModule !== undefined && construct instanceof stateBucketModule.StateBucketStack;

export const stackName = (props: StackProps): string =>
  isStateStack(props) ? STATE_STACK : props.account.name;

export function buildStacks(stacks: readonly StackProps[], outdir: string, hcl: boolean): App {
  // cdktf 0.21's App and stacks read HCL-or-JSON from this variable as they are constructed (App's
  // hclOutput only names the file; an empty value would mean JSON to App), so it is set for exactly
  // that moment.
  const previous = process.env.SYNTH_HCL_OUTPUT;
  process.env.SYNTH_HCL_OUTPUT = String(hcl);
  let app: App;
  try {
    app = new App({ outdir, hclOutput: hcl, stackTraces: false });
    for (const props of stacks) {
      if (isStateStack(props)) new (stateBucketStackModule().StateBucketStack)(app, props);
      else new AccountStack(app, props);
    }
  } finally {
    if (previous === undefined) delete process.env.SYNTH_HCL_OUTPUT;
    else process.env.SYNTH_HCL_OUTPUT = previous;
  }
  return app;
}

/**
 * Runs `app.synth()` with cdktf's hooks (./terraform/cdktf-hooks.ts), every stack file written in its
 * committed form (HCL formatted as it is rendered: ./terraform/formatted-hcl.ts); returns the HCL text
 * of each stack by name (none for JSON).
 */
export function synthApp(app: App): ReadonlyMap<string, string> {
  const written = new Map<string, string>();
  withoutTokenCreationStacks(() =>
    withFormattedHcl(
      (stack, hcl) => written.set(stack, hcl),
      // Without App.synth()'s manifest.json: the run writes the one manifest of all its stacks once they
      // are done (synth.ts, writeManifest, from each App's manifest in memory). Each App writing it in
      // turn rewrote one file per stack, and ext4 flushes a file truncated and rewritten at its close
      // (auto_da_alloc): ~0.7 ms each, 60 ms at 100 accounts.
      () =>
        withReplaced(
          Manifest.prototype,
          "writeToFile",
          () => {},
          () => withFastCdktf(() => app.synth()),
        ),
    ),
  );
  return written;
}

/** Synthesizes one stack into `scratch` (formatted, for HCL) and returns its record. */
export function synthesizeStack(
  props: StackProps,
  scratch: string,
  hcl: boolean,
  input: string,
  lap: (step: SynthStep) => void,
): StackRecord {
  const app = withoutTokenCreationStacks(() => withFastCdktf(() => buildStacks([props], scratch, hcl)));
  const stack = app.node.children[0];
  lap("construct");
  const written = synthApp(app);
  lap("synth");
  const name = stackName(props);
  const files: Record<string, string> = {};
  for (const file of stackFilesOf(name, hcl).filter((f) => existsSync(join(scratch, f)))) {
    // The stack file's text as it was written (formatted as it was rendered); the others from disk.
    const text = hcl && file.endsWith(".tf") ? written.get(name) : undefined;
    files[file] = sha256Hex(text ?? readFileSync(join(scratch, file), "utf8"));
  }
  lap("format");
  return {
    input,
    files,
    manifest: app.manifest.stacks[name],
    // From what will be deployed (equal to the HCL parsed back, as the tests check).
    ...(stack instanceof AccountStack
      ? { summary: summaryOf(stack.synthesized, stack.account.partition) }
      : {}),
  };
}
