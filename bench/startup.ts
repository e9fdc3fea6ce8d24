/**
 * Start-up of the main job: `node dist/main.js` on the example config against a bare `node -e 0` of the
 * same binary, the two interleaved run by run, so both see the same machine load: the ratio is what
 * compares between machines and runs (issue 25: ≤ 3×). On the machine's Node and each tested LTS line
 * (bench/node-versions.ts), and the per-step breakdown from a profiling bundle of bench/phases.ts.
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { bundleCacheFile } from "../src/runtime/bundle-cache";
import { measure, median, summarize, type Measurement, type Sample } from "./measure";
import type { Phases } from "./phases";

/** `node dist/main.js` may take at most this many times a bare `node -e 0` of the same binary. */
export const STARTUP_RATIO_TARGET = 3;

export interface StartupRow {
  /** Node's version, e.g. "v22.23.3". */
  readonly version: string;
  readonly bare: Measurement;
  readonly main: Measurement;
  /** main / bare, of the medians. */
  readonly ratio: number;
  /** With the compile cache off (NODE_DISABLE_COMPILE_CACHE=1), for comparison. */
  readonly cacheOff: boolean;
}

export interface StartupOptions {
  readonly root: string;
  readonly env: NodeJS.ProcessEnv;
  readonly runs: number;
  readonly warmup: number;
  /** Emptied before each run of the main job. */
  readonly outdir: string;
}

/**
 * Removes the V8 code cache of the main job's bundle for this Node (src/runtime/bundle-cache.ts), so the
 * warm-up run writes it from this row's own run of the example. The cache holds the functions the run
 * that wrote it compiled, and that run is whichever came first after a build (a test on another config,
 * say): a larger cache from another path measured 94–99 ms against 84–87 ms on Node 22 and 24.
 */
function clearBundleCodeCache(root: string, version: string, env: NodeJS.ProcessEnv): void {
  const file = bundleCacheFile(join(root, "dist", "bundle", "main.js"), env, version);
  if (file) rmSync(file, { force: true });
}

/** Interleaves `[binary, -e, 0]` and `[binary, dist/main.js]`, warm-up runs first; medians and ratio. */
export async function startupRow(
  binary: string,
  version: string,
  options: StartupOptions,
  cacheOff = false,
): Promise<StartupRow> {
  const env = { ...options.env, ...(cacheOff ? { NODE_DISABLE_COMPILE_CACHE: "1" } : {}) };
  const bare: Sample[] = [];
  const main: Sample[] = [];
  const label = `node ${version}${cacheOff ? " (compile cache off)" : ""}`;
  if (!cacheOff && options.warmup > 0) clearBundleCodeCache(options.root, version, env);
  for (let i = 0; i < options.warmup + options.runs; i++) {
    const b = await measure([binary, "-e", "0"], { cwd: options.root, env });
    rmSync(options.outdir, { recursive: true, force: true });
    const m = await measure([binary, join(options.root, "dist/main.js")], { cwd: options.root, env });
    if (m.code !== 0) throw new Error(`${label} dist/main.js exited ${m.code}:\n${m.stderr}`);
    const timed = i >= options.warmup;
    process.stderr.write(
      `  ${label}: ${timed ? `run ${i - options.warmup + 1}/${options.runs}` : "warm-up"} bare ${(b.wallMs / 1000).toFixed(2)} s, dist/main.js ${(m.wallMs / 1000).toFixed(2)} s\n`,
    );
    if (timed) {
      bare.push(b);
      main.push(m);
    }
  }
  const bareM = summarize(`${label} -e 0`, bare);
  const mainM = summarize(`${label} dist/main.js`, main);
  return { version, bare: bareM, main: mainM, ratio: mainM.wallMs / bareM.wallMs, cacheOff };
}

/** Medians of several phase samples, per step and per package. */
export function medianPhases(samples: readonly Phases[]): Phases {
  const keys = Object.keys(samples[0]).filter((k) => k !== "packages") as (keyof Phases)[];
  const result: Record<string, unknown> = Object.fromEntries(
    keys.map((k) => [k, median(samples.map((s) => s[k] as number))]),
  );
  const names = [...new Set(samples.flatMap((s) => Object.keys(s.packages ?? {})))];
  if (names.length > 0) {
    result.packages = Object.fromEntries(
      names.map((name) => [name, median(samples.map((s) => s.packages?.[name] ?? 0))]),
    );
  }
  return result as unknown as Phases;
}

const ms = (value: number) => `${Math.round(value)} ms`;
const seconds = (value: number) => `${(value / 1000).toFixed(2)} s`;

/** The start-up table: one row per Node, the ratio to bare node with its target and verdict. */
export function startupTable(rows: readonly StartupRow[], load: string): string[] {
  const lines = [
    "## Start-up: `node dist/main.js` against a bare `node -e 0`, interleaved",
    "",
    `The main job on the example config (examples/basic/, what a fresh clone's \`npm run synth\` runs) and \`node -e 0\` of the same binary, run by turns so both see the same load (${load}). Target: ≤ ${STARTUP_RATIO_TARGET}× bare node (issue 25).`,
    "",
    "| Node | bare `node -e 0` | `node dist/main.js` (min–max) | CPU | Peak RSS | Ratio | Target | Result |",
    "| --- | ---: | ---: | ---: | ---: | ---: | --- | --- |",
  ];
  for (const r of rows) {
    const pass = r.ratio <= STARTUP_RATIO_TARGET;
    lines.push(
      `| ${r.version}${r.cacheOff ? ", compile cache off" : ""} | ${seconds(r.bare.wallMs)} | ${seconds(r.main.wallMs)} (${seconds(r.main.minWallMs)}–${seconds(r.main.maxWallMs)}) | ` +
        `${Number.isNaN(r.main.cpuMs) ? "–" : seconds(r.main.cpuMs)} | ${Math.round(r.main.maxRssKb / 1024)} MiB | ${r.ratio.toFixed(1)}× | ` +
        `${r.cacheOff ? "– (for comparison)" : `≤ ${STARTUP_RATIO_TARGET}×`} | ${r.cacheOff ? "–" : pass ? "**PASS**" : "**MISS**"} |`,
    );
  }
  lines.push("");
  return lines;
}

/** Module loading per package, largest first; the small rest in one line. */
export function packageTable(phases: Phases, label: string): string[] {
  const packages = Object.entries(phases.packages ?? {}).sort((a, b) => b[1] - a[1]);
  if (packages.length === 0) return [];
  const shown = packages.filter(([, value]) => value >= 1).slice(0, 15);
  const rest = packages.slice(shown.length);
  const counted = packages.reduce((sum, [, value]) => sum + value, 0);
  const lines = [
    `Module loading by package (${label}): the own top-level code of each package's modules, from a profiling bundle; ` +
      `the rest of the ${ms(phases.modules)} is reading and compiling the bundle.`,
    "",
    "| Package | Loading |",
    "| --- | ---: |",
    ...shown.map(([name, value]) => `| ${name} | ${ms(value)} |`),
  ];
  if (rest.length > 0)
    lines.push(`| ${rest.length} more, each < 1 ms | ${ms(rest.reduce((s, [, v]) => s + v, 0))} |`);
  lines.push(`| Sum | ${ms(counted)} |`, "");
  return lines;
}
