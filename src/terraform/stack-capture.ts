/**
 * cdktf 0.21 records where each token was made (`Intrinsic`, `Lazy`, dynamic blocks, computed lists:
 * `creationStack`) by capturing a full-depth stack trace (`Error.stackTraceLimit` raised to
 * `Number.MAX_SAFE_INTEGER`) in `cdktf/lib/tokens/private/stack-trace.js`. It reads them only to decorate
 * its errors about unresolvable tokens. src/runtime/token-stacks.ts's `withoutTokenCreationStacks` already makes them
 * format as "" (so cdktf records `[]`), but V8 still walks and records every frame of every capture.
 *
 * `withoutStackCapture` replaces that module's `captureStackTrace` (cdktf's modules call it through the
 * module object, `(0, stack_trace_1.captureStackTrace)()`) with one that returns `[]` at once, the same
 * value cdktf records under `withoutTokenCreationStacks`, while `work` runs, and restores it after.
 */
// The module object itself, which cdktf's modules call through (a namespace import may be a copy).
// eslint-disable-next-line @typescript-eslint/no-require-imports
import stackTraceModule = require("cdktf/lib/tokens/private/stack-trace");

import { withReplaced } from "./scoped-patch";

type Capture = typeof stackTraceModule.captureStackTrace;

const noFrames: Capture = () => [];

export function withoutStackCapture<T>(work: () => T): T {
  return withReplaced(stackTraceModule as { captureStackTrace: Capture }, "captureStackTrace", noFrames, work);
}
