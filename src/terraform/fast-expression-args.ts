/**
 * A fast path in front of cdktf 0.21's rendering of an expression's arguments (`TFExpression#resolveArg`
 * in `cdktf/lib/tfExpression.js`), for arguments that are plain data: the documents of
 * `Fn.jsonencode(...)`, the lists of `Fn.toset([...])`.
 *
 * cdktf renders an argument by resolving it whole (`context.resolve`), then renders each element or
 * value by resolving it again, recursively: a document n levels deep is resolved n times over, through
 * cdktf's own resolver (the fast path of ./fast-resolve.ts is not on that road). At 5,000 roles that is
 * ~0.3 s of CPU. For an argument with no token anywhere (plain data, as ./fast-resolve.ts decides it),
 * every one of those resolves returns the value itself, so the rendering is the same recursion without
 * them: a string through cdktf's own `resolveString`, an array `[a, b]`, an object `{"k" = v}`, a
 * boolean as itself. Anything else (a token, any number: a number token looks like one, null, undefined:
 * cdktf drops it while resolving, which shifts the indices it renders by) goes to cdktf's resolveArg.
 * Byte-identical to stock cdktf (test/cdktf-hooks.test.ts).
 */
import type { IResolveContext } from "cdktf";
import { call } from "cdktf/lib/tfExpression";
import { isPlainKeyOrString } from "./fast-resolve";
import { withReplaced } from "./scoped-patch";

/** The methods of cdktf's (unexported) `TFExpression` the fast path uses. */
interface Expression {
  resolveArg(this: Expression, context: IResolveContext, arg: unknown): unknown;
  resolveString(this: Expression, str: string, resolvedArg: string): unknown;
}

/** `TFExpression.prototype`: the class of every cdktf expression (a function call's is the probe). */
const expressionPrototype = (() => {
  const prototype = Object.getPrototypeOf(Object.getPrototypeOf(call("gitlab_oidc_probe", []))) as Expression;
  if (!Object.hasOwn(prototype, "resolveArg") || !Object.hasOwn(prototype, "resolveString")) {
    throw new Error("fast-expression-args: cdktf's TFExpression has no resolveArg; the cdktf version changed");
  }
  return prototype;
})();

/** Whether `value` holds no token, number, null or undefined anywhere (see the top of this file). */
export function isPlainArgument(value: unknown): boolean {
  if (typeof value === "string") return isPlainKeyOrString(value);
  if (typeof value === "boolean") return true;
  if (typeof value !== "object" || value === null) return false;
  if (Array.isArray(value)) {
    if (Object.getPrototypeOf(value) !== Array.prototype) return false;
    for (let i = 0; i < value.length; i++) if (!(i in value) || !isPlainArgument(value[i])) return false;
    return true;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) return false;
  for (const key of Object.keys(value)) {
    if (!isPlainKeyOrString(key) || !isPlainArgument((value as Record<string, unknown>)[key])) return false;
  }
  return true;
}

/** cdktf's rendering of a plain argument, without the resolves that return it unchanged. */
function renderPlain(expression: Expression, arg: unknown): unknown {
  if (typeof arg === "string") return expression.resolveString(arg, arg);
  if (Array.isArray(arg)) return `[${arg.map((element) => renderPlain(expression, element)).join(", ")}]`;
  if (typeof arg === "object" && arg !== null) {
    const entries = Object.keys(arg).map(
      (key) => `"${key}" = ${String(renderPlain(expression, (arg as Record<string, unknown>)[key]))}`,
    );
    return `{${entries.join(", ")}}`;
  }
  return arg; // a boolean, as cdktf's resolveExpressionPart returns it
}

export function withFastExpressionArgs<T>(work: () => T): T {
  const stock = expressionPrototype.resolveArg;
  return withReplaced(
    expressionPrototype,
    "resolveArg",
    function (this: Expression, context: IResolveContext, arg: unknown): unknown {
      return isPlainArgument(arg) ? renderPlain(this, arg) : stock.call(this, context, arg);
    },
    work,
  );
}
