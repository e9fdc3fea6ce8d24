/**
 * TEST SUPPORT, installed for every test file by test/setup.ts: no child process started by a test
 * can outlive its test. jest cannot interrupt a synchronous test (a test with a 1 s timeout that blocks
 * 6 s in `spawnSync` passes), and a child without a timeout hangs the run without a word.
 *
 * Every `node:child_process` call made without a `timeout` of its own gets run.ts's default deadline:
 * the running test's timeout (less run.ts's asyncMargin for asynchronous children, so the kill comes
 * well before jest's timeout), or HOOK_DEADLINE_MS outside a test (beforeAll, module scope). At the
 * deadline the child is
 * killed (SIGKILL) and
 * - a synchronous call throws CommandError with the command and the tail of its output;
 * - an asynchronous child fails its test (afterEach, see test/setup.ts) with the same.
 * Calls that pass their own `timeout` are left alone. New code should still use test/support/run.ts,
 * which says the same things and returns the output as strings.
 */
import type * as ChildProcessModule from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import { promisify } from "node:util";
import { CommandError, defaultDeadline, describeCommand, tail } from "./run";

// The module object itself (an `import * as` would be a copy): test files read its properties at call time.
const childProcess = createRequire(__filename)("node:child_process") as typeof ChildProcessModule;

const MARK = Symbol.for("gitlab-oidc-aws.child-deadline");

type Options = { timeout?: number; killSignal?: NodeJS.Signals | number } & Record<string, unknown>;
const kills: string[] = [];

/** The messages of asynchronous children killed at their deadline since the last call, then forgets them. */
export function takeDeadlineKills(): string[] {
  return kills.splice(0, kills.length);
}

/** Splits `(file, args?, options?)` as child_process does; args may be left out. */
function split(rest: unknown[]): { args: string[]; options: Options | undefined; callback: unknown } {
  const args = Array.isArray(rest[0]) ? (rest.shift() as string[]) : [];
  const options = rest[0] !== null && typeof rest[0] === "object" ? (rest.shift() as Options) : undefined;
  return { args, options, callback: rest[0] };
}

const text = (value: unknown): string =>
  value === undefined || value === null
    ? ""
    : Buffer.isBuffer(value)
      ? value.toString("utf8")
      : String(value);

function timedOut(command: string, args: string[], ms: number, output: string): CommandError {
  return new CommandError(
    `${describeCommand(command, args)} did not finish within ${ms / 1000} s (its test's timeout) and was ` +
      `killed; its output ends:\n${tail(output) || "(no output)"}\n` +
      "(Give the call its own timeout, or use run/runOk/runAsync from test/support/run.ts.)",
  );
}

/** Installs the deadlines into node:child_process, for the test file being run (test/setup.ts calls it). */
export function installChildDeadlines(): void {
  // The module is shared by the test files a worker runs one after another, each in its own context
  // (its own globalThis and jest state): every file installs wrappers of its own around the originals,
  // which the first installation keeps on the module.
  const cp = childProcess as unknown as Record<string | symbol, unknown>;
  cp[MARK] ??= {
    spawnSync: childProcess.spawnSync,
    execFileSync: childProcess.execFileSync,
    execSync: childProcess.execSync,
    spawn: childProcess.spawn,
    execFile: childProcess.execFile,
    exec: childProcess.exec,
  };
  const original = cp[MARK] as Pick<
    typeof ChildProcessModule,
    "spawnSync" | "execFileSync" | "execSync" | "spawn" | "execFile" | "exec"
  >;

  const withDeadline = (options: Options | undefined, ms: number): Options => ({
    ...options,
    timeout: ms,
    killSignal: "SIGKILL",
  });
  const hasOwnTimeout = (options: Options | undefined) => Boolean(options?.timeout);

  const sync =
    (name: "spawnSync" | "execFileSync") =>
    (file: string, ...rest: unknown[]) => {
      const { args, options } = split(rest);
      const call = original[name] as (...a: unknown[]) => unknown;
      if (hasOwnTimeout(options)) return call(file, args, options);
      const ms = defaultDeadline(false);
      if (name === "spawnSync") {
        const result = call(
          file,
          args,
          withDeadline(options, ms),
        ) as ChildProcessModule.SpawnSyncReturns<unknown>;
        if ((result.error as NodeJS.ErrnoException | undefined)?.code === "ETIMEDOUT") {
          throw timedOut(file, args, ms, text(result.stdout) + text(result.stderr));
        }
        return result;
      }
      try {
        return call(file, args, withDeadline(options, ms));
      } catch (error) {
        const e = error as NodeJS.ErrnoException & { stdout?: unknown; stderr?: unknown };
        if (e.code === "ETIMEDOUT") throw timedOut(file, args, ms, text(e.stdout) + text(e.stderr));
        throw error;
      }
    };

  const execSync = (command: string, options?: Options) => {
    if (hasOwnTimeout(options)) return original.execSync(command, options);
    const ms = defaultDeadline(false);
    try {
      return original.execSync(command, withDeadline(options, ms));
    } catch (error) {
      const e = error as NodeJS.ErrnoException & { stdout?: unknown; stderr?: unknown };
      if (e.code === "ETIMEDOUT") throw timedOut("sh", ["-c", command], ms, text(e.stdout) + text(e.stderr));
      throw error;
    }
  };

  /** Records an asynchronous child killed at its deadline, with the tail of its output. */
  const watch = (child: ChildProcess, command: string, args: string[], ms: number): ChildProcess => {
    let output = "";
    const started = Date.now();
    child.stdout?.on("data", (d: Buffer | string) => (output += text(d)));
    child.stderr?.on("data", (d: Buffer | string) => (output += text(d)));
    child.on("exit", (_code, signal) => {
      if (signal === "SIGKILL" && Date.now() - started >= ms - 50) {
        kills.push(timedOut(command, args, ms, output).message);
      }
    });
    return child;
  };

  const spawn = (file: string, ...rest: unknown[]) => {
    const { args, options } = split(rest);
    if (hasOwnTimeout(options)) return original.spawn(file, args, options ?? {});
    const ms = defaultDeadline(true);
    return watch(original.spawn(file, args, withDeadline(options, ms)), file, args, ms);
  };

  const execFile = (file: string, ...rest: unknown[]) => {
    const { args, options, callback } = split(rest);
    const call = original.execFile as (...a: unknown[]) => ChildProcess;
    if (hasOwnTimeout(options)) return call(file, args, options ?? {}, callback);
    const ms = defaultDeadline(true);
    return watch(call(file, args, withDeadline(options, ms), callback), file, args, ms);
  };

  const exec = (command: string, ...rest: unknown[]) => {
    const options = rest[0] !== null && typeof rest[0] === "object" ? (rest.shift() as Options) : undefined;
    const call = original.exec as (...a: unknown[]) => ChildProcess;
    if (hasOwnTimeout(options)) return call(command, options ?? {}, rest[0]);
    const ms = defaultDeadline(true);
    return watch(call(command, withDeadline(options, ms), rest[0]), "sh", ["-c", command], ms);
  };

  // promisify(execFile) and promisify(exec) resolve with { stdout, stderr }, as the originals' do.
  const promisified =
    (fn: (...a: unknown[]) => ChildProcess) =>
    (...a: unknown[]) => {
      let child: ChildProcess | undefined;
      const promise = new Promise((resolve, reject) => {
        child = fn(...a, (error: (Error & object) | null, stdout: unknown, stderr: unknown) =>
          error ? reject(Object.assign(error, { stdout, stderr })) : resolve({ stdout, stderr }),
        );
      });
      return Object.assign(promise, { child });
    };
  Object.assign(execFile, { [promisify.custom]: promisified(execFile as (...a: unknown[]) => ChildProcess) });
  Object.assign(exec, { [promisify.custom]: promisified(exec as (...a: unknown[]) => ChildProcess) });

  Object.assign(cp, {
    spawnSync: sync("spawnSync"),
    execFileSync: sync("execFileSync"),
    execSync,
    spawn,
    execFile,
    exec,
  });
}
