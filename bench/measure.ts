/**
 * Runs one command and measures its wall time and peak memory, the same way for every row of the table.
 *
 * - Wall time: `process.hrtime` around the child, from spawn to exit (the whole process tree).
 * - Peak RSS of the largest process: GNU time (`/usr/bin/time -f %M`), i.e. the `ru_maxrss` that the
 *   kernel reports for the child, which on Linux is the maximum over the child and every descendant
 *   it waited for. Exact, but the largest single process, not the sum of processes alive together.
 * - Peak RSS of the whole tree: sampled every `BENCH_POLL_MS` (default 50 ms) by walking
 *   `/proc/<pid>/task/<tid>/children` from the child down and summing `VmRSS`. This is what the machine
 *   holds at once (e.g. the cdktf CLI plus the app it runs), but a sample can miss a peak shorter than
 *   the interval. Without `/usr/bin/time` the largest-process column falls back to the sampled maximum.
 * - CPU time: user + system seconds of the child and its waited-for descendants (GNU time `%U %S`).
 *   Unlike wall time it barely moves when other work shares the machine, so it is the column to
 *   compare between noisy runs. Unknown (NaN) without GNU time.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const GNU_TIME = "/usr/bin/time";

export interface Sample {
  readonly wallMs: number;
  /** Largest single process in the tree, KiB (GNU time %M), or the sampled maximum without GNU time. */
  readonly maxRssKb: number;
  /** Sampled maximum of the summed RSS of the whole tree, KiB. */
  readonly treeRssKb: number;
  /** User + system CPU time of the whole tree, ms (NaN without GNU time). */
  readonly cpuMs: number;
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  readonly cwd: string;
  readonly env?: NodeJS.ProcessEnv;
}

export function hasGnuTime(): boolean {
  return existsSync(GNU_TIME);
}

/** KiB of resident memory of one process, 0 if it is gone. */
function rssKb(pid: number): number {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

function childrenOf(pid: number): number[] {
  const result: number[] = [];
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const text = readFileSync(`/proc/${pid}/task/${tid}/children`, "utf8").trim();
      if (text) result.push(...text.split(/\s+/).map(Number));
    }
  } catch {
    // exited meanwhile
  }
  return result;
}

/** Summed RSS of a process and all its descendants, and the largest single one. */
function treeRss(root: number): { sum: number; max: number } {
  let sum = 0;
  let max = 0;
  const stack = [root];
  const seen = new Set<number>();
  while (stack.length > 0) {
    const pid = stack.pop()!;
    if (seen.has(pid)) continue;
    seen.add(pid);
    const rss = rssKb(pid);
    sum += rss;
    max = Math.max(max, rss);
    stack.push(...childrenOf(pid));
  }
  return { sum, max };
}

/** Runs `command` (argv, no shell) once and measures it. */
export function measure(command: readonly string[], options: RunOptions): Promise<Sample> {
  const gnuTime = hasGnuTime();
  const scratch = mkdtempSync(join(tmpdir(), "bench-time-"));
  const timeFile = join(scratch, "time");
  const argv = gnuTime ? [GNU_TIME, "-f", "%M %U %S", "-o", timeFile, ...command] : [...command];
  const pollMs = Number(process.env.BENCH_POLL_MS) || 50;
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(argv[0], argv.slice(1), {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => err.push(chunk));
    let treeMax = 0;
    let processMax = 0;
    const poll = () => {
      if (child.pid === undefined) return;
      const { sum, max } = treeRss(child.pid);
      treeMax = Math.max(treeMax, sum);
      processMax = Math.max(processMax, max);
    };
    const timer = setInterval(poll, pollMs);
    child.on("error", (error) => {
      clearInterval(timer);
      rmSync(scratch, { recursive: true, force: true });
      reject(error);
    });
    child.on("close", (code) => {
      const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
      clearInterval(timer);
      let maxRssKb = processMax;
      let cpuMs = NaN;
      if (gnuTime) {
        // GNU time writes "Command exited with non-zero status N" before the format on failure.
        const lines = existsSync(timeFile) ? readFileSync(timeFile, "utf8").trim().split("\n") : [];
        const [rss, user, system] = (lines[lines.length - 1] ?? "").split(" ").map(Number);
        if (Number.isFinite(rss) && rss > 0) maxRssKb = rss;
        if (Number.isFinite(user) && Number.isFinite(system)) cpuMs = (user + system) * 1000;
      }
      rmSync(scratch, { recursive: true, force: true });
      resolve({
        wallMs,
        maxRssKb,
        treeRssKb: Math.max(treeMax, maxRssKb),
        cpuMs,
        code: code ?? 1,
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8"),
      });
    });
  });
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export interface Measurement {
  readonly label: string;
  readonly runs: number;
  /** Medians over the runs. */
  readonly wallMs: number;
  readonly maxRssKb: number;
  readonly treeRssKb: number;
  readonly cpuMs: number;
  readonly minWallMs: number;
  readonly maxWallMs: number;
  /** Exit code of the last run (non-zero only if `allowFailure`). */
  readonly code: number;
  readonly last: Sample;
}

export interface RepeatOptions extends RunOptions {
  readonly runs: number;
  /** Untimed runs first (file cache, lazy compilation caches). */
  readonly warmup?: number;
  /** Record a failing command instead of throwing (the test suites). */
  readonly allowFailure?: boolean;
  /** Called before each run (e.g. to empty the output directory). */
  readonly before?: () => void;
}

function tail(text: string, lines = 30): string {
  return text.trim().split("\n").slice(-lines).join("\n");
}

/** Runs a command `warmup + runs` times; reports the medians of the timed runs. */
export async function repeat(
  label: string,
  command: readonly string[],
  options: RepeatOptions,
): Promise<Measurement> {
  const samples: Sample[] = [];
  const total = (options.warmup ?? 0) + options.runs;
  for (let i = 0; i < total; i++) {
    options.before?.();
    const sample = await measure(command, options);
    const timed = i >= (options.warmup ?? 0);
    process.stderr.write(
      `  ${label}: ${timed ? `run ${i - (options.warmup ?? 0) + 1}/${options.runs}` : "warm-up"} ` +
        `${(sample.wallMs / 1000).toFixed(2)} s (cpu ${(sample.cpuMs / 1000).toFixed(2)} s), ${(sample.maxRssKb / 1024).toFixed(0)} MiB` +
        (sample.code !== 0 ? ` (exit ${sample.code})` : "") +
        "\n",
    );
    if (sample.code !== 0 && options.allowFailure) {
      // Reported in the table as failed; which tests failed is said here (jest's ✕ and ● lines).
      const failures = `${sample.stdout}\n${sample.stderr}`
        .split("\n")
        .filter((line) => /^\s*(✕|●(?! Console))/.test(line))
        .slice(0, 20);
      if (failures.length > 0) process.stderr.write(`${failures.join("\n")}\n`);
    }
    if (sample.code !== 0 && !options.allowFailure) {
      throw new Error(
        `${label}: \`${command.join(" ")}\` exited with ${sample.code}\n${tail(sample.stderr)}\n${tail(sample.stdout)}`,
      );
    }
    if (timed) samples.push(sample);
  }
  return summarize(label, samples);
}

/** Medians (and the wall-time spread) of timed samples of one command. */
export function summarize(label: string, samples: readonly Sample[]): Measurement {
  const walls = samples.map((s) => s.wallMs);
  const last = samples[samples.length - 1];
  return {
    label,
    runs: samples.length,
    wallMs: median(walls),
    maxRssKb: median(samples.map((s) => s.maxRssKb)),
    treeRssKb: median(samples.map((s) => s.treeRssKb)),
    cpuMs: median(samples.map((s) => s.cpuMs)),
    minWallMs: Math.min(...walls),
    maxWallMs: Math.max(...walls),
    code: last.code,
    last,
  };
}
