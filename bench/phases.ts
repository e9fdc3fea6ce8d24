/**
 * Where the main job's time goes: module loading, config validation, then the steps of
 * `synthesize()` as it reports them (SynthOptions.onStepTimes), in a fresh process, printed as JSON.
 *
 *   GITLAB_OIDC_CONFIG=<yaml> node dist/bench/phases.js <scratch dir>
 */
import "../src/runtime/entry"; // first, as in main.ts, so the phases match the main job
import { rmSync } from "node:fs";
import { join } from "node:path";
import type { SynthStep } from "../src/synth";

export type Phases = Record<"modules" | "loadValidate" | SynthStep | "total", number>;

const now = () => Number(process.hrtime.bigint()) / 1e6;

async function main(): Promise<void> {
  const scratch = process.argv[2];
  if (!scratch) throw new Error("usage: phases.js <scratch dir>");
  rmSync(scratch, { recursive: true, force: true });
  const start = now();
  let t = start;
  const lap = () => {
    const previous = t;
    t = now();
    return t - previous;
  };

  const { configPath, loadConfigFile } = await import("../src/config/load");
  const { synthesize } = await import("../src/synth");
  const modules = lap();
  const config = loadConfigFile(configPath());
  const loadValidate = lap();
  let steps: Partial<Record<SynthStep, number>> = {};
  // A full synth: no reuse record.
  synthesize(config, {
    outdir: join(scratch, "out"),
    hcl: true,
    onStepTimes: (times) => (steps = times),
  });
  const phases = { modules, loadValidate, ...steps, total: now() - start } as Phases;
  rmSync(scratch, { recursive: true, force: true });
  process.stdout.write(JSON.stringify(phases) + "\n");
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error instanceof Error ? (error.stack ?? error.message) : error);
      process.exit(1);
    },
  );
}
