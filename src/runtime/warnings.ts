/**
 * cdktf's `TerraformOutput` calls `util.isArray`, which Node ≥ 22 deprecates at run time: every synth
 * printed `[DEP0044] DeprecationWarning: The util.isArray API is deprecated` that users can do nothing
 * about (cdktf is no longer maintained). This drops exactly that warning: code DEP0044, called from
 * cdktf's own files. Every other warning, including DEP0044 from anywhere else, is printed as before.
 *
 * Node prints a deprecation once per code per process: when cdktf's call comes first, a later
 * `util.isArray` call from other code is not printed either, as it would not be without this filter.
 */

/** Node's code for the `util.isArray` deprecation. */
export const UTIL_IS_ARRAY_DEPRECATION = "DEP0044";

/** A stack frame inside the installed cdktf package (`node_modules/cdktf/…`, any platform). */
const CDKTF_FRAME = /[\\/]node_modules[\\/]cdktf[\\/]/;

/** What `process.emitWarning` was asked to print, whichever of its call forms was used. */
export interface EmittedWarning {
  readonly type: string;
  readonly code?: string;
}

/** Reads `process.emitWarning(warning, type?, code?)` and `process.emitWarning(warning, { type, code })`. */
export function describeWarning(args: readonly unknown[]): EmittedWarning {
  const [warning, second, third] = args;
  const fromError = warning instanceof Error ? (warning as Error & { code?: unknown }) : undefined;
  let type = fromError?.name ?? "Warning";
  let code = typeof fromError?.code === "string" ? fromError.code : undefined;
  if (typeof second === "string") {
    type = second;
    if (typeof third === "string") code = third;
  } else if (second && typeof second === "object") {
    const options = second as { type?: unknown; code?: unknown };
    if (typeof options.type === "string") type = options.type;
    if (typeof options.code === "string") code = options.code;
  }
  return { type, code };
}

/**
 * The first frame of `stack` outside Node's own code: who called the deprecated API. Node's frames are
 * `node:internal/…` (with or without parentheses) and the filter's own frame is not in the stack.
 */
export function callerFrame(stack: string): string | undefined {
  return stack
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line.startsWith("at "))
    .find((line) => !/(^at |\()node:/.test(line));
}

/** True for cdktf's `util.isArray` deprecation and nothing else. */
export function isCdktfIsArrayDeprecation(warning: EmittedWarning, stack: string): boolean {
  if (warning.type !== "DeprecationWarning" || warning.code !== UTIL_IS_ARRAY_DEPRECATION) return false;
  const caller = callerFrame(stack);
  return caller !== undefined && CDKTF_FRAME.test(caller);
}

const installed = Symbol.for("gitlab-oidc-aws.warning-filter");

/**
 * The stack above `below`, in Node's own format, whatever Error.prepareStackTrace another module set
 * (the synth formats the stacks cdktf records for tokens as "" while it runs).
 */
function callerStack(below: (...args: never[]) => unknown): string {
  const holder: { stack?: unknown } = {};
  const limit = Error.stackTraceLimit;
  const prepare = Error.prepareStackTrace;
  Error.stackTraceLimit = 20;
  Error.prepareStackTrace = (_error, frames) => frames;
  try {
    Error.captureStackTrace(holder, below);
    // Read inside: V8 formats `stack` when it is first read, with the hook in force then.
    const frames = holder.stack as NodeJS.CallSite[];
    return frames.map((frame) => `    at ${String(frame)}`).join("\n");
  } finally {
    Error.prepareStackTrace = prepare;
    Error.stackTraceLimit = limit;
  }
}

/** Wraps `process.emitWarning` so cdktf's DEP0044 is dropped; idempotent. */
export function silenceCdktfDeprecation(target: NodeJS.Process = process): void {
  const current = target.emitWarning as typeof process.emitWarning & { [installed]?: true };
  if (current[installed]) return;
  const filtered = function emitWarning(this: unknown, ...args: unknown[]): void {
    const warning = describeWarning(args);
    if (warning.type === "DeprecationWarning" && warning.code === UTIL_IS_ARRAY_DEPRECATION) {
      if (isCdktfIsArrayDeprecation(warning, callerStack(filtered))) return;
    }
    (current as (...a: unknown[]) => void).apply(this, args);
  };
  Object.defineProperty(filtered, installed, { value: true });
  target.emitWarning = filtered as typeof process.emitWarning;
}
