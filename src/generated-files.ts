/**
 * Files generated with every synth and written next to the stacks (in the synth output directory),
 * from what was synthesized. They are committed with the HCL, so a merge request shows them changing.
 */
import type { Config } from "./config/schema";
import { renderStackJobs, renderStackManifests } from "./pipeline/stack-jobs";
import { renderAccessReport, type AccessReportPart } from "./report/access-report";
import type { SynthesizedStack } from "./terraform/synthesized-stacks";

/**
 * Relative path in the output directory → content. `accessPartOf` may hand back a stack's share of
 * ACCESS.md kept from an earlier synth (the incremental synth's records).
 */
export function generatedFiles(
  config: Config,
  stacks: readonly SynthesizedStack[],
  accessPartOf?: (stack: SynthesizedStack, partition: string) => AccessReportPart,
): Record<string, string> {
  return {
    "stacks.gitlab-ci.yml": renderStackJobs(config, stacks),
    "ACCESS.md": renderAccessReport(config, stacks, accessPartOf),
    ...renderStackManifests(config, stacks),
  };
}
