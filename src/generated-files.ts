/**
 * Files generated with every synth and written next to the stacks (in the synth output directory),
 * from what was synthesized. They are committed with the HCL, so a merge request shows them changing.
 */
import type { Config } from "./config/schema";
import { renderStackJobs, renderStackManifests } from "./pipeline/stack-jobs";
import { accessReportChunks, accessReportPart, type AccessReportPart } from "./report/access-report";
import type { SynthesizedStack } from "./terraform/synthesized-stacks";

/** A generated file's content: text, or (ACCESS.md) chunks of bytes to be written one after another. */
export type GeneratedContent = string | readonly Uint8Array[];

/** A generated file's content as text. */
export const textOf = (content: GeneratedContent): string =>
  typeof content === "string" ? content : Buffer.concat(content).toString("utf8");

/**
 * What the generated files read of one account's stack: its name and region (the pipeline's jobs) and
 * its share of ACCESS.md. Small enough for the incremental synth to keep with a stack's record, so a
 * reused stack needs neither its model nor a rendering of its part.
 */
export interface StackSummary {
  readonly name: string;
  readonly region?: string;
  readonly access: AccessReportPart;
}

/** A stack's summary from its model and its account's partition. */
export function summaryOf(stack: SynthesizedStack, partition: string): StackSummary {
  return {
    name: stack.name,
    ...(stack.region !== undefined ? { region: stack.region } : {}),
    access: accessReportPart(stack, partition),
  };
}

/** Relative path in the output directory → content, from the account stacks' models. */
export function generatedFiles(config: Config, stacks: readonly SynthesizedStack[]): Record<string, string> {
  const partitionOf = new Map(config.accounts.map((a) => [a.name, a.partition]));
  const files = generatedFilesOf(
    config,
    stacks.map((stack) => summaryOf(stack, partitionOf.get(stack.name) ?? "aws")),
  );
  return Object.fromEntries(Object.entries(files).map(([file, content]) => [file, textOf(content)]));
}

/**
 * Relative path in the output directory → content (ACCESS.md as chunks of UTF-8 bytes), from the
 * account stacks' summaries.
 */
export function generatedFilesOf(
  config: Config,
  stacks: readonly StackSummary[],
): Record<string, GeneratedContent> {
  return {
    "stacks.gitlab-ci.yml": renderStackJobs(config, stacks),
    "ACCESS.md": accessReportChunks(
      config,
      stacks.map((stack) => stack.access),
    ),
    ...renderStackManifests(config, stacks),
  };
}
