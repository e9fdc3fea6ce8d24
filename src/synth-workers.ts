/**
 * The stacks to synthesize, shared between this thread and worker threads: a config with thousands of
 * roles synthesizes one stack after another on one core, ~1.3 ms a role, while the other cores have
 * little to do (one thread keeps a second core about half busy with its garbage collection).
 *
 * Each thread takes the next stack from one shared counter (Atomics), so a worker that starts late or a
 * stack that takes long never leaves a thread idle while stacks wait. Every thread runs the same
 * synthesizeStack (./synth-stack.ts) on the same props into the same scratch directory (each stack its
 * own files), so where a stack ran changes no byte of the output; the records come back to this thread,
 * which writes everything that spans stacks (./synth.ts). A worker runs the main job's own script, from
 * the same build (main.ts calls serveSynthWorker when started with SYNTH_WORKER_ARG).
 */
import { mkdirSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import type { Worker } from "node:worker_threads";
import type { GitLabLock } from "./gitlab/lock";
import type { StackInputs, StackRecord, StateStackInputs } from "./synth-cache";
import { isStateStack, type PlannedStack } from "./synth-plan";
import { synthesizeStack, type SynthStep } from "./synth-stack";

/**
 * Roles to synthesize per worker before one pays. Measured on a 2-core machine (docs/performance.md):
 * a worker made 500 roles slower (1.2 → 1.4 s), 1,000 about even, 5,000 ~6% faster; a worker costs
 * ~0.3 s of start-up and the second core is half busy with the first thread's garbage collection.
 */
export const ROLES_PER_WORKER = 1500;

/** The environment variable that sets the number of workers (0: synthesize in one thread). */
export const WORKERS_ENV = "GITLAB_OIDC_SYNTH_WORKERS";

/**
 * Most workers a run starts, whatever the machine: each holds a heap of its own (peak RSS 291 → 397 MiB
 * with one worker at 5,000 roles), and the main thread still writes every file alone.
 */
const MAX_WORKERS = 7;

export interface ParallelOptions {
  /**
   * The script a worker runs: one that calls serveSynthWorker() when it is not the main thread (the
   * main job's own, `process.argv[1]`: main.ts).
   */
  readonly workerScript: string;
  /**
   * How many worker threads to start beside this one, or workers started already (SynthWorkers).
   * @default synthWorkerCount(the stacks to synthesize)
   */
  readonly workers?: number | SynthWorkers;
  /**
   * Whether this thread synthesizes stacks too; false leaves every stack to the workers (how the
   * tests prove what a worker writes: on a small config this thread would take them all first).
   * @default true
   */
  readonly inThisThread?: boolean;
}

const rolesOf = (stack: Pick<PlannedStack, "props">): number =>
  isStateStack(stack.props) ? 1 : stack.props.account.roles.length;

/**
 * How many workers pay for `todo` (the stacks to synthesize) with `cores` cores: one per
 * ROLES_PER_WORKER roles, at most one fewer than the cores and the stacks (this thread works too).
 */
export function synthWorkerCount(
  todo: readonly Pick<PlannedStack, "props">[],
  cores: number = availableParallelism(),
): number {
  const roles = todo.reduce((sum, stack) => sum + rolesOf(stack), 0);
  return Math.max(0, Math.min(MAX_WORKERS, cores - 1, todo.length - 1, Math.floor(roles / ROLES_PER_WORKER)));
}

/**
 * `node:worker_threads`, loaded when workers are started or served: ~2-4 ms that a run synthesizing
 * in one thread (the example, every incremental run of a few stacks) does without.
 */
function workerThreads(): typeof import("node:worker_threads") {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require("node:worker_threads") as typeof import("node:worker_threads");
}

/**
 * The argument a synth worker is started with, which the main job's script checks (main.ts) before it
 * loads anything else.
 */
export const SYNTH_WORKER_ARG = "--gitlab-oidc-synth-worker";

/**
 * Bytes of config a role takes, for a guess at the roles before the config is read (workersForConfig):
 * the benchmark's configs hold ~715 a role. A terser config gets fewer workers from the guess.
 */
const CONFIG_BYTES_PER_ROLE = 700;

/** synthWorkerCount for a config of `bytes` all of whose stacks will be synthesized, before it is read. */
export function workersForConfig(bytes: number, cores: number = availableParallelism()): number {
  const roles = Math.floor(bytes / CONFIG_BYTES_PER_ROLE);
  return Math.max(0, Math.min(MAX_WORKERS, cores - 1, Math.floor(roles / ROLES_PER_WORKER)));
}

/** The number of workers `GITLAB_OIDC_SYNTH_WORKERS` asks for, undefined when unset (the default). */
export function workersFromEnv(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const value = env[WORKERS_ENV];
  if (value === undefined || value === "") return undefined;
  if (!/^\d{1,2}$/.test(value) || Number(value) > 64) {
    throw new Error(
      `${WORKERS_ENV}=${JSON.stringify(value)}: expected a whole number of worker threads from 0 (one thread) to 64`,
    );
  }
  return Number(value);
}

/** One stack as a worker gets it. */
interface WorkerStack {
  readonly name: string;
  readonly props: StackInputs | StateStackInputs;
  readonly input: string;
}

/** What a worker gets at its start (workerData). */
interface WorkerStart {
  readonly kind: typeof WORKER_KIND;
  /** [NEXT, DONE] over a SharedArrayBuffer: the next stack to take, and how many are done. */
  readonly counters: Int32Array;
}

/** The work, in the one message a worker waits for (no stacks: nothing to do, it ends). */
interface WorkerJob {
  readonly scratch: string;
  readonly hcl: boolean;
  readonly stacks: readonly WorkerStack[];
}

/** What a worker sends back once: the records of the stacks it synthesized, or why it stopped. */
type WorkerOutput =
  | { readonly records: readonly (readonly [number, StackRecord])[] }
  | { readonly error: { readonly message: string; readonly stack?: string } };

const WORKER_KIND = "gitlab-oidc-aws synth worker";
const NEXT = 0;
const DONE = 1;

/**
 * Worker threads started and waiting for their stacks. The main job starts them before it reads the
 * config when it knows every stack will be synthesized (GITLAB_OIDC_FULL_SYNTH, or an output never
 * synthesized): loading the main job's code in a worker (~0.3 s) then overlaps reading the config.
 */
export class SynthWorkers {
  /** [NEXT, DONE]: shared by this thread and every worker of the pool. */
  readonly counters = new Int32Array(new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT));
  private readonly workers: Worker[] = [];
  private readonly outputs: Promise<WorkerOutput>[] = [];
  private used = false;

  /** Starts `count` workers running `script` (one that calls serveSynthWorker off the main thread). */
  constructor(count: number, script: string) {
    const start: WorkerStart = { kind: WORKER_KIND, counters: this.counters };
    for (let i = 0; i < count; i++) {
      const worker = new (workerThreads().Worker)(script, { workerData: start, argv: [SYNTH_WORKER_ARG] });
      this.workers.push(worker);
      this.outputs.push(outputOf(worker));
    }
  }

  get size(): number {
    return this.workers.length;
  }

  /** Sends the job to every worker (once); they take stacks from the shared counter. */
  assign(job: WorkerJob): void {
    if (this.used) throw new Error("synth: a pool of synth workers runs one job");
    this.used = true;
    for (const worker of this.workers) worker.postMessage(job);
  }

  /** Every worker's one message, in the order they were started. */
  results(): Promise<WorkerOutput[]> {
    return Promise.all(this.outputs);
  }

  /** Stops the workers: unused (they get no stacks and end), or after a failure here. */
  async close(): Promise<void> {
    Atomics.store(this.counters, NEXT, 2 ** 30); // past any job's last stack
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }
}

export interface StacksOptions {
  readonly scratch: string;
  readonly hcl: boolean;
  /** Workers beside this one (0: this thread only), or a pool started already. */
  readonly workers: number | SynthWorkers;
  readonly workerScript?: string;
  /** @default true (ParallelOptions.inThisThread) */
  readonly inThisThread?: boolean;
  readonly lap: (step: SynthStep) => void;
  /** After each stack (in any thread) that this thread sees done: how many are done. */
  readonly onProgress?: (done: number) => void;
}

/**
 * Synthesizes `todo` into `options.scratch`, in this thread and the workers; resolves to each stack's
 * record by name. A stack that fails fails the whole: its error is thrown here.
 */
export async function synthesizeStacks(
  todo: readonly PlannedStack[],
  options: StacksOptions,
): Promise<Map<string, StackRecord>> {
  let pool: SynthWorkers | undefined;
  if (options.workers instanceof SynthWorkers) pool = options.workers;
  else if (options.workers > 0) {
    if (!options.workerScript) throw new Error("synth: workers need a worker script");
    pool = new SynthWorkers(options.workers, options.workerScript);
  }
  // cdktf's App makes `stacks/` in its outdir when it is missing (Manifest: exists, then mkdir): threads
  // building their first App at once would race for it, and one would fail with EEXIST.
  mkdirSync(join(options.scratch, "stacks"), { recursive: true });
  const counters = pool?.counters ?? new Int32Array(2);
  pool?.assign({
    scratch: options.scratch,
    hcl: options.hcl,
    stacks: todo.map(({ name, props, input }) => ({ name, props, input })),
  });
  const here = options.inThisThread !== false || pool === undefined || pool.size === 0;
  let records: Map<string, StackRecord>;
  try {
    records = here ? synthesizeHere(todo, options, counters) : new Map();
  } catch (error) {
    await pool?.close();
    throw error;
  }
  for (const output of pool ? await pool.results() : []) {
    if ("error" in output) {
      const error = new Error(output.error.message);
      if (output.error.stack) error.stack = output.error.stack;
      throw error;
    }
    // Structured clone delivers the ACCESS.md section, a Buffer, as a Uint8Array: all its readers take.
    for (const [index, record] of output.records) records.set(todo[index]!.name, record);
    options.onProgress?.(Atomics.load(counters, DONE));
  }
  const missing = todo.filter((stack) => !records.has(stack.name));
  if (missing.length > 0) {
    throw new Error(`synth: no worker returned stack(s) ${missing.map((stack) => stack.name).join(", ")}`);
  }
  return records;
}

/**
 * This thread's share of `todo`: the stacks it takes from `counters` (the pool's, shared with the
 * workers; by default its own, so every stack) until none is left, each synthesized and counted done.
 */
export function synthesizeHere(
  todo: readonly PlannedStack[],
  options: Pick<StacksOptions, "scratch" | "hcl" | "lap" | "onProgress">,
  counters: Int32Array = new Int32Array(2),
): Map<string, StackRecord> {
  const records = new Map<string, StackRecord>();
  for (let i = Atomics.add(counters, NEXT, 1); i < todo.length; i = Atomics.add(counters, NEXT, 1)) {
    const stack = todo[i]!;
    records.set(
      stack.name,
      synthesizeStack(stack.props, options.scratch, options.hcl, stack.input, options.lap),
    );
    options.onProgress?.(Atomics.add(counters, DONE, 1) + 1);
  }
  return records;
}

/** A worker's one message, or a failure naming why it stopped without one. */
function outputOf(worker: Worker): Promise<WorkerOutput> {
  return new Promise((resolve) => {
    const stopped = (why: string): void =>
      resolve({
        error: {
          message: `synth: a worker thread stopped before it finished (${why}); ${WORKERS_ENV}=0 synthesizes in one thread`,
        },
      });
    worker.once("message", (output: WorkerOutput) => resolve(output));
    // An error from another realm (the worker's, or a test's) is no `instanceof Error` here.
    worker.once("error", (error: unknown) => {
      const message = (error as { message?: unknown } | null)?.message;
      stopped(typeof message === "string" ? message : String(error));
    });
    worker.once("exit", (code) => stopped(`exit code ${code}`));
  });
}

/**
 * The lock slice as the stack needs it: its maps keyed by GitLab path have no prototype (a group may be
 * named `constructor`), which structured clone does not keep.
 */
function withPrototypelessLock<T extends StackInputs | StateStackInputs>(props: T): T {
  if (isStateStack(props) || !props.lock) return props;
  const lock: GitLabLock = {
    projects: Object.assign(Object.create(null) as GitLabLock["projects"], props.lock.projects),
    groups: Object.assign(Object.create(null) as GitLabLock["groups"], props.lock.groups),
  };
  return { ...props, lock };
}

/** Whether this thread is a synth worker (started by SynthWorkers). */
export function isSynthWorker(): boolean {
  const { parentPort, workerData } = workerThreads();
  return parentPort !== null && (workerData as Partial<WorkerStart> | null)?.kind === WORKER_KIND;
}

/** A worker's whole life: wait for the job, take stacks until none is left, then send their records. */
export function serveSynthWorker(): void {
  const { parentPort: port, workerData } = workerThreads();
  if (!port || !isSynthWorker()) throw new Error(`${SYNTH_WORKER_ARG}: not a synth worker thread`);
  const { counters } = workerData as WorkerStart;
  port.once("message", ({ scratch, hcl, stacks }: WorkerJob) => {
    const records: (readonly [number, StackRecord])[] = [];
    const lap = (): void => {};
    try {
      for (let i = Atomics.add(counters, NEXT, 1); i < stacks.length; i = Atomics.add(counters, NEXT, 1)) {
        const stack = stacks[i]!;
        records.push([
          i,
          synthesizeStack(withPrototypelessLock(stack.props), scratch, hcl, stack.input, lap),
        ]);
        Atomics.add(counters, DONE, 1);
      }
    } catch (error) {
      // No thread takes another stack: the run fails with this error.
      Atomics.store(counters, NEXT, stacks.length);
      const failure = error instanceof Error ? error : new Error(String(error));
      port.postMessage({
        error: { message: failure.message, ...(failure.stack ? { stack: failure.stack } : {}) },
      } satisfies WorkerOutput);
      return;
    }
    port.postMessage({ records } satisfies WorkerOutput);
  });
}
