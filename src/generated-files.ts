/**
 * Files generated with every synth and written next to the stacks (in the synth output directory),
 * from what was synthesized. They are committed with the HCL, so a merge request shows them changing.
 */
import type { Config } from "./config/schema";
import { renderStackJobs, renderStackManifests } from "./pipeline/stack-jobs";
import { renderAccessReport } from "./report/access-report";
import type { SynthesizedStack } from "./terraform/synthesized-stacks";

/** Relative path in the output directory → content. */
export function generatedFiles(config: Config, stacks: readonly SynthesizedStack[]): Record<string, string> {
  return {
    "stacks.gitlab-ci.yml": renderStackJobs(config, stacks),
    "ACCESS.md": renderAccessReport(config, stacks),
    ...renderStackManifests(config, stacks),
  };
}
