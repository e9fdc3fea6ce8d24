/**
 * What an incremental synth decides before it builds anything: per stack its props and input hash,
 * and whether the last synth's record of it can stand for a fresh synth (src/synth-cache.ts). Made once
 * per run: the main job makes it while the config is checked (an account whose record says it passed
 * the same checks on the same inputs is not checked again: checkedAccounts), uses it to read only the
 * changed stacks' earlier output (the audience-migration notices) and hands it to synthesize.
 */
import { join, resolve } from "node:path";
import type { AccountConfig, Config } from "./config/schema";
import {
  filesystemInstant,
  hasUnsettledFiles,
  readRecords,
  readRunRecord,
  recordDirFor,
  stackInputHash,
  stackInputs,
  SETTLE_MS,
  stateStackInputs,
  stillValid,
  toolFingerprint,
  type RunRecord,
  type StackInputs,
  type StackRecord,
  type StateStackInputs,
} from "./synth-cache";
import { realLocation } from "./output-files";
import { STATE_STACK } from "./model/state-access";

/** One stack of the config, as the synth will write it. */
export interface PlannedStack {
  readonly name: string;
  readonly props: StackInputs | StateStackInputs;
  /** stackInputHash of `props` ("" without a record directory: nothing is recorded). */
  readonly input: string;
  /** The last synth's record of this stack, if any (valid, for this output directory). */
  readonly record?: StackRecord;
  /** Whether `record` stands for a fresh synth (same input, its files intact): the stack is reused. */
  readonly reused: boolean;
}

export interface SynthPlan {
  readonly config: Config;
  /** The output directory's real location. */
  readonly outdir: string;
  readonly hcl: boolean;
  /** Whether records were read (PlanOptions.reuse). */
  readonly reuse: boolean;
  /** Where this output's records are (none: nothing is reused or recorded). */
  readonly recordDir?: string;
  /** In config order, the state bucket's last. */
  readonly stacks: readonly PlannedStack[];
  /** The last run's record, if valid. */
  readonly previousRun?: RunRecord;
  /** Stat signatures of the reused stacks' files, taken as they were checked (for the next run record). */
  readonly settled: Readonly<Record<string, string>>;
}

export interface PlanOptions {
  readonly outdir: string;
  readonly hcl: boolean;
  /** @default none: nothing is reused or recorded */
  readonly cacheDir?: string;
  /** @default true; false reads no record (every stack is synthesized, and recorded). */
  readonly reuse?: boolean;
}

/** A stack's files (relative to the outdir): its stack file first, then (HCL only) metadata.json. */
export function stackFilesOf(stack: string, hcl: boolean): string[] {
  return [hcl ? "cdk.tf" : "cdk.tf.json", "metadata.json"].map((file) => join("stacks", stack, file));
}

export const isStateStack = (props: StackInputs | StateStackInputs): props is StateStackInputs =>
  "bucketPolicy" in props;

/** Reads the records of `options.outdir` and decides, per stack of `config`, whether it is reused. */
export function planSynth(config: Config, options: PlanOptions): SynthPlan {
  const outdir = realLocation(resolve(options.outdir));
  const recordDir = options.cacheDir && recordDirFor(options.cacheDir, outdir, options.hcl);
  const all: (StackInputs | StateStackInputs)[] = config.accounts.map((account) =>
    stackInputs(config, account),
  );
  const state = stateStackInputs(config);
  if (state) all.push(state);
  const names = all.map((props) => (isStateStack(props) ? STATE_STACK : props.account.name));
  const reading = recordDir !== undefined && options.reuse !== false;
  const previous = reading ? readRecords(recordDir, outdir, names) : new Map<string, StackRecord>();
  const previousRun = reading ? readRunRecord(recordDir, outdir) : undefined;
  const fingerprint = recordDir ? toolFingerprint() : "";
  // The filesystem's clock, read before any file's stat, when some recorded file has no settled signature
  // (written by the last run, or never checked): those read now settle at once (filesystemInstant).
  const instant =
    recordDir !== undefined &&
    previous.size > 0 &&
    (previousRun === undefined || hasUnsettledFiles(previousRun))
      ? filesystemInstant(recordDir)
      : undefined;
  const settled: Record<string, string> = {};
  const stacks = all.map((props, i): PlannedStack => {
    const name = names[i]!;
    const input = recordDir ? stackInputHash(fingerprint, options.hcl, props) : "";
    const record = previous.get(name);
    const seen: Record<string, string> = {};
    const reused =
      recordDir !== undefined &&
      stillValid(
        record,
        input,
        outdir,
        stackFilesOf(name, options.hcl),
        !isStateStack(props),
        previousRun,
        seen,
        SETTLE_MS,
        instant,
      );
    // Only a reused stack's files keep the bytes they were checked for.
    if (reused) Object.assign(settled, seen);
    return { name, props, input, ...(record ? { record } : {}), reused };
  });
  return {
    config,
    outdir,
    hcl: options.hcl,
    reuse: options.reuse !== false,
    ...(recordDir ? { recordDir } : {}),
    stacks,
    ...(previousRun ? { previousRun } : {}),
    settled,
  };
}

/**
 * The accounts whose per-account checks (checkAccount) need not run: their last record has the same
 * input hash (the account, the shared settings, its lock slice and state access, the tool's code, all
 * of what checkAccount reads and more) and says the account passed them. Whether its files are intact
 * does not matter here: the checks read the config, not the output.
 */
export function checkedAccounts(plan: SynthPlan): ReadonlySet<AccountConfig> {
  const checked = new Set<AccountConfig>();
  for (const stack of plan.stacks) {
    if (isStateStack(stack.props) || stack.record?.checked !== true) continue;
    if (stack.record.input === stack.input) checked.add(stack.props.account);
  }
  return checked;
}

/** The stacks that will be synthesized again (not reused), by name. */
export function changedStacks(plan: SynthPlan): string[] {
  return plan.stacks.filter((stack) => !stack.reused).map((stack) => stack.name);
}
