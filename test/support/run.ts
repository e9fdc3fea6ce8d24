/**
 * TEST SUPPORT: the way tests start a child process.
 *
 * Why: jest cannot interrupt a synchronous test, so its per-test timeout never fires while a test is
 * blocked in `spawnSync`; and a child with no timeout of its own hangs the whole run without a word.
 * Every child started here has a deadline. When it passes, the child is killed (SIGKILL) and the test
 * fails with the command and the tail of its output. A command that is not installed fails the test
 * naming the tool and the installer (scripts/ensure-test-tools.sh), not with a bare ENOENT.
 *
 *   run("sh", [script], { input })             synchronous; returns status, stdout, stderr
 *   runOk("git", ["init"], { cwd })            the same, and throws with the output unless it exits 0
 *   await runAsync("/bin/dash", ["-c", s])     asynchronous: for children that talk to a server in
 *                                              this process (a synchronous spawn would deadlock)
 *
 * The deadline is the running test's timeout unless `timeoutMs` says otherwise. (Direct
 * `node:child_process` calls without a timeout get the same deadline: test/support/child-deadline.ts.)
 */
import { spawn, spawnSync } from "node:child_process";

export interface RunOptions {
  readonly cwd?: string;
  /** The child's whole environment. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** Written to the child's stdin. @default empty stdin */
  readonly input?: string;
  /**
   * Kill the child (SIGKILL) and fail after this long.
   * @default the running test's timeout (less ASYNC_MARGIN for runAsync, so the kill comes before jest's
   * timeout), or HOOK_DEADLINE_MS outside a test (beforeAll, module scope)
   */
  readonly timeoutMs?: number;
  /** @default 64 MiB */
  readonly maxBuffer?: number;
}

export interface RunResult {
  /** The exit status; null only when a signal ended the child. */
  readonly status: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout, then stderr. */
  readonly output: string;
  readonly durationMs: number;
}

/** The deadline outside a running test (hooks, module scope), where jest does not say which timeout applies. */
export const HOOK_DEADLINE_MS = 600_000;
const TAIL_LINES = 40;

/** The running test's timeout, from jest-circus's state; undefined outside a test. */
function runningTestTimeout(): number | undefined {
  const g = globalThis as unknown as Record<symbol, unknown>;
  const symbol = Object.getOwnPropertySymbols(g).find((s) => s.description === "JEST_STATE_SYMBOL");
  const state = symbol
    ? (g[symbol] as { currentlyRunningTest?: { timeout?: number } | null; testTimeout?: number })
    : undefined;
  const test = state?.currentlyRunningTest;
  return test ? (test.timeout ?? state?.testTimeout) : undefined;
}

/**
 * How long before jest's timeout an asynchronous child is killed: a tenth of the timeout, at least 5 s
 * (at most half of a short timeout), so that on a loaded machine the kill, its report and the test's
 * own clean-up finish well before jest gives up on the test (a 0.2 s margin did not, issue 23).
 */
export function asyncMargin(testTimeout: number): number {
  return Math.max(testTimeout * 0.1, Math.min(testTimeout * 0.5, 5_000));
}

/**
 * The default deadline of a child: the running test's timeout (a synchronous spawn blocks jest's own
 * timer, so the child's deadline is the only one), less asyncMargin for an asynchronous child (killed,
 * with its output reported, before jest's timeout fires), HOOK_DEADLINE_MS outside a test.
 */
export function defaultDeadline(asynchronous: boolean): number {
  const testTimeout = runningTestTimeout();
  if (testTimeout === undefined) return HOOK_DEADLINE_MS;
  return asynchronous ? Math.max(100, Math.floor(testTimeout - asyncMargin(testTimeout))) : testTimeout;
}

/** A child that did not finish in time (it has been killed), or did not start. */
export class CommandError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CommandError";
  }
}

/** Runs `command` synchronously; throws CommandError if it times out (it is killed) or cannot start. */
export function run(command: string, args: readonly string[] = [], options: RunOptions = {}): RunResult {
  const timeoutMs = options.timeoutMs ?? defaultDeadline(false);
  const started = Date.now();
  const child = spawnSync(command, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    input: options.input ?? "",
    encoding: "utf8",
    timeout: timeoutMs,
    killSignal: "SIGKILL",
    maxBuffer: options.maxBuffer ?? 64 * 1024 * 1024,
  });
  const result = toResult(child.status, child.signal, child.stdout ?? "", child.stderr ?? "", started);
  const code = (child.error as NodeJS.ErrnoException | undefined)?.code;
  if (code === "ETIMEDOUT") throw timedOut(command, args, timeoutMs, result);
  if (child.error) throw notStarted(command, args, child.error as NodeJS.ErrnoException);
  return result;
}

/** `run`, and throws CommandError with the command and its output unless it exits 0. */
export function runOk(command: string, args: readonly string[] = [], options: RunOptions = {}): RunResult {
  return requireSuccess(command, args, run(command, args, options));
}

/**
 * Runs `command` without blocking the event loop, so it may call servers in this process; the child
 * and everything it started (its process group) are killed at the deadline, and the promise rejects.
 */
export function runAsync(
  command: string,
  args: readonly string[] = [],
  options: RunOptions = {},
): Promise<RunResult> {
  const timeoutMs = options.timeoutMs ?? defaultDeadline(true);
  const started = Date.now();
  return new Promise((resolve, reject) => {
    // detached: the child leads its own process group, so the kill reaches its children too.
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ["pipe", "pipe", "pipe"],
      detached: true,
    });
    let stdout = "";
    let stderr = "";
    let expired = false;
    const timer = setTimeout(() => {
      expired = true;
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        child.kill("SIGKILL");
      }
    }, timeoutMs);
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.stdin.on("error", () => undefined); // a child that exits without reading its stdin
    child.stdin.end(options.input ?? "");
    child.on("error", (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(notStarted(command, args, error));
    });
    child.on("close", (status, signal) => {
      clearTimeout(timer);
      const result = toResult(status, signal, stdout, stderr, started);
      if (expired) reject(timedOut(command, args, timeoutMs, result));
      else resolve(result);
    });
  });
}

/** `runAsync`, and rejects with the command and its output unless it exits 0. */
export async function runAsyncOk(
  command: string,
  args: readonly string[] = [],
  options: RunOptions = {},
): Promise<RunResult> {
  return requireSuccess(command, args, await runAsync(command, args, options));
}

/** The last lines of a command's output, for failure messages. */
export function tail(text: string, lines = TAIL_LINES): string {
  const all = text.trimEnd().split("\n");
  const kept = all.slice(-lines).join("\n");
  return all.length > lines ? `… (${all.length - lines} earlier lines)\n${kept}` : kept;
}

function requireSuccess(command: string, args: readonly string[], result: RunResult): RunResult {
  if (result.status === 0) return result;
  const how = result.status === null ? `was killed by ${result.signal}` : `exited ${result.status}`;
  throw new CommandError(
    `${describeCommand(command, args)} ${how}; its output ends:\n${tail(result.output)}`,
  );
}

function toResult(
  status: number | null,
  signal: NodeJS.Signals | null,
  stdout: string,
  stderr: string,
  started: number,
): RunResult {
  return { status, signal, stdout, stderr, output: `${stdout}${stderr}`, durationMs: Date.now() - started };
}

function timedOut(
  command: string,
  args: readonly string[],
  timeoutMs: number,
  result: RunResult,
): CommandError {
  return new CommandError(
    `${describeCommand(command, args)} did not finish within ${timeoutMs / 1000} s and was killed; ` +
      `its output ends:\n${tail(result.output) || "(no output)"}`,
  );
}

function notStarted(command: string, args: readonly string[], error: NodeJS.ErrnoException): CommandError {
  const hint =
    error.code === "ENOENT"
      ? `${command} is not installed or not on PATH. Run \`bash scripts/ensure-test-tools.sh\`: it installs ` +
        "the tools the tests use, or says which are missing and why."
      : error.message;
  return new CommandError(`${describeCommand(command, args)} could not start: ${hint}`);
}

/** The command line, with long arguments (inline scripts) shortened. */
export function describeCommand(command: string, args: readonly string[]): string {
  const shown = [command, ...args].map((arg) => {
    const short = arg.length > 120 ? `${arg.slice(0, 100)}…(${arg.length} chars)` : arg;
    return /^[\w@%+=:,./-]+$/.test(short) ? short : `'${short.replace(/'/g, `'\\''`)}'`;
  });
  return `\`${shown.join(" ")}\``;
}
