/**
 * The costs of cdktf 0.21 (archived) that a synth of thousands of roles cannot afford, scoped out for
 * the duration of one call: building an App's constructs, or its `synth()`. Each hook restores cdktf
 * when `work` returns or throws, so it composes with any number of Apps (one per account) and leaves
 * cdktf as it was for anything else in the process. The output is byte-identical to stock cdktf's
 * (test/cdktf-hooks.test.ts compares both).
 *
 * - `withoutStackCapture` (stack-capture.ts): no stack trace captured for each token made.
 * - `withFastResolve` (fast-resolve.ts): the token-free parts of a stack skip cdktf's resolver; every
 *   token still goes through it.
 * - `withFastExpressionArgs` (fast-expression-args.ts): a function call's plain-data arguments (the
 *   documents of `jsonencode`, the lists of `toset`) rendered without cdktf's repeated resolves.
 * - `withDirectBodies` (direct-bodies.ts): the trust policies' data sources and the roles' exclusive
 *   resources hand cdktf their HCL body, written directly (direct-policy-document.ts, direct-exclusive.ts).
 * - `withoutPrepareResolve` (skip-prepare.ts): no throw-away resolve of every stack before rendering;
 *   a cross-stack reference, or a construct added while resolving, throws `SkippedPrepareError`.
 */
import { withDirectBodies } from "./direct-bodies";
import { withFastExpressionArgs } from "./fast-expression-args";
import { withFastResolve } from "./fast-resolve";
import { withoutPrepareResolve } from "./skip-prepare";
import { withoutStackCapture } from "./stack-capture";

export { SkippedPrepareError } from "./skip-prepare";

export function withFastCdktf<T>(work: () => T): T {
  return withoutStackCapture(() =>
    withFastResolve(() =>
      withFastExpressionArgs(() => withDirectBodies(() => withoutPrepareResolve(work))),
    ),
  );
}
