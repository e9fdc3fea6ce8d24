/**
 * Where the main job's time goes: Node's own start-up, module loading, config validation, then the
 * steps of `synthesize()` as it reports them (SynthOptions.onStepTimes), in a fresh process, printed as
 * JSON. All times are from the process's start (`performance.timeOrigin`).
 *
 *   GITLAB_OIDC_CONFIG=<yaml> node dist/bench/phases.js <scratch dir>
 *
 * The bench runs it bundled like the main job, from a profiling bundle (scripts/bundle.mjs `profile`)
 * that also sums each package's module loading (`packages`, ms of its modules' own top-level code).
 */
import "../src/runtime/entry"; // first, as in main.ts, so the phases match the main job
import { rmSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import type { SynthStep } from "../src/synth";

export type Phases = Record<"node" | "modules" | "loadValidate" | SynthStep | "total", number> & {
  /** With a profiling bundle: ms of module loading per package. */
  packages?: Record<string, number>;
};

const now = () => performance.now();

async function main(): Promise<void> {
  const scratch = process.argv[2];
  if (!scratch) throw new Error("usage: phases.js <scratch dir>");
  rmSync(scratch, { recursive: true, force: true });
  // Node's own start-up ends at bootstrapComplete; what follows up to here is loading this file.
  const node = performance.nodeTiming.bootstrapComplete;
  let t = node;
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
  const packages = (globalThis as { __gitlabOidcModuleTimes?: Record<string, number> })
    .__gitlabOidcModuleTimes;
  const phases = {
    node,
    modules,
    loadValidate,
    ...steps,
    total: now(),
    ...(packages ? { packages } : {}),
  } as Phases;
  rmSync(scratch, { recursive: true, force: true });
  process.stdout.write(JSON.stringify(phases) + "\n");
}

// An entry point only (bench/run.ts imports its type alone): run when loaded, as the main module or
// from the launcher of its profiling bundle.
main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    process.exit(1);
  },
);
