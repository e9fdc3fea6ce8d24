/**
 * A fast path in front of cdktf 0.21's token resolve, for the parts of a stack that hold no token.
 *
 * cdktf resolves every element of a stack two or three times (`prepareStack`, then `toHclTerraform` or
 * `toTerraform`), and its resolver (`cdktf/lib/tokens/private/resolve.js`) builds a new context (two
 * closures, a copied key path) for every key, array element and string it visits, and runs three
 * regular expressions on every string: at thousands of roles that is most of the synth and much of its
 * garbage. Almost all of a stack is plain data (names, policy documents, conditions); tokens sit in a
 * few leaves (references between resources, `jsonencode`, `toset`).
 *
 * `withFastResolve` swaps cdktf's `Tokenization.resolve` (through which every resolve of a stack goes,
 * `cdktf/lib/_tokens.js`) for `fastResolve` while `work` runs, and restores it after. `fastResolve`
 * walks plain objects and arrays itself and copies what holds no token, exactly as cdktf would (a new
 * object, `undefined` values dropped); anything that is or may hold a token goes to cdktf's own resolve
 * with the same options and key path, so a token is always resolved by cdktf (a cross-stack reference
 * found while preparing still creates its output and remote state). "May hold a token" is decided by
 * cdktf's own tests (`TokenString`, `Tokenization.isResolvable`), or errs towards cdktf: every number,
 * every function, any object with a token key, any array with a list token.
 */
import { Tokenization, type ITokenResolver } from "cdktf";
import { Token } from "cdktf/lib/tokens/token";
import { resolve as cdktfResolve } from "cdktf/lib/tokens/private/resolve";
import { TokenString } from "cdktf/lib/tokens/private/encoding";
import type { IConstruct } from "constructs";
import { withReplaced } from "./scoped-patch";

/** The options cdktf's `Tokenization.resolve` takes. */
export interface ResolveOptions {
  readonly scope: IConstruct;
  readonly resolver: ITokenResolver;
  readonly preparing?: boolean;
}

/** cdktf's resolve refuses key paths deeper than this (a cyclic structure); it makes that error. */
const MAX_DEPTH = 200;

/**
 * What cdktf's resolve would return for `value`, resolving only the token-bearing parts through it.
 */
export function fastResolve(value: unknown, options: ResolveOptions): unknown {
  const preparing = options.preparing ?? false;
  const path: string[] = [];
  const delegate = (inner: unknown): unknown =>
    cdktfResolve(inner, { scope: options.scope, resolver: options.resolver, preparing, prefix: [...path] });

  const walk = (inner: unknown): unknown => {
    if (path.length > MAX_DEPTH) return delegate(inner);
    if (inner === undefined || inner === null) return inner;
    if (typeof inner === "string") return isPlainString(inner) ? inner : delegate(inner);
    if (typeof inner === "boolean") return inner;
    if (typeof inner !== "object" || inner instanceof Date) return delegate(inner);
    if (Array.isArray(inner)) {
      if (!isPlainArray(inner)) return delegate(inner);
      const out: unknown[] = [];
      for (let i = 0; i < inner.length; i++) {
        path.push(String(i));
        const resolved = walk(inner[i]);
        path.pop();
        if (resolved !== undefined) out.push(resolved);
      }
      return out;
    }
    const keys = Object.keys(inner);
    if (!isPlainObject(inner, keys)) return delegate(inner);
    const out: Record<string, unknown> = {};
    for (const key of keys) {
      path.push(key);
      const resolved = walk((inner as Record<string, unknown>)[key]);
      path.pop();
      if (resolved !== undefined) out[key] = resolved;
    }
    return out;
  };
  return walk(value);
}

/**
 * cdktf's map token values and token patterns, read once: these checks run for every string of every
 * stack, and in the bundle each read of a cdktf export is a getter call (esbuild's interop) while
 * `TokenString.forX(s)` makes an object per call. The patterns are cdktf's own RegExp objects (a
 * TokenString's private `re`), used as its `test()` uses them, so every answer is cdktf's.
 */
const TOKENS = (() => {
  const patternOf = (tokenString: TokenString): RegExp => {
    const re = (tokenString as unknown as { re?: unknown }).re;
    if (!(re instanceof RegExp)) {
      throw new Error("fast-resolve: cdktf's TokenString has no pattern (`re`); the cdktf version changed");
    }
    return re;
  };
  return {
    stringMapValue: Token.STRING_MAP_TOKEN_VALUE,
    anyMapValue: Token.ANY_MAP_TOKEN_VALUE,
    list: patternOf(TokenString.forListToken("")),
    string: patternOf(TokenString.forString("")),
    map: patternOf(TokenString.forMapToken("")),
    numbers: patternOf(TokenString.forNumbers("")),
  };
})();

/** `TokenString#test()`: from the string's start (the patterns are global, so lastIndex is reset). */
function matches(pattern: RegExp, value: string): boolean {
  pattern.lastIndex = 0;
  return pattern.test(value);
}

/**
 * A string cdktf's resolve returns unchanged: no string, list or map token marker, none of the map
 * token values, nothing its number-token pattern matches (cdktf's own tests, in the order it runs them).
 */
function isPlainString(value: string): boolean {
  if (value === TOKENS.stringMapValue || value === TOKENS.anyMapValue) return false;
  // Every marker cdktf encodes a string, list or map token with contains "TfToken[" (its patterns
  // cannot match without it); a number token encoded into a string contains an exponent ("e").
  if (!value.includes("TfToken[")) return !value.includes("e") || !matches(TOKENS.numbers, value);
  return !(
    matches(TOKENS.list, value) ||
    matches(TOKENS.string, value) ||
    matches(TOKENS.map, value) ||
    matches(TOKENS.numbers, value)
  );
}

/** isPlainString, for other hooks (./fast-expression-args.ts): a key or string cdktf leaves as it is. */
export const isPlainKeyOrString = (value: string): boolean => isPlainString(value);

/** An array cdktf's resolve maps element by element: no list token, no number at all (number tokens). */
function isPlainArray(value: readonly unknown[]): boolean {
  for (const element of value) {
    if (typeof element === "number") return false;
    if (typeof element === "string" && element.includes("TfToken[") && matches(TOKENS.list, element))
      return false;
  }
  return true;
}

/** An object cdktf's resolve walks key by key, keys unchanged: not a token, no token in any key. */
function isPlainObject(value: object, keys: readonly string[]): boolean {
  // Tokenization.isResolvable, as cdktf 0.21 writes it.
  if (typeof (value as { resolve?: unknown }).resolve === "function") return false;
  // A construct is refused by cdktf's resolve, with its own error.
  if ("_children" in value || "_metadata" in value) return false;
  for (const key of keys) if (!isPlainString(key)) return false;
  return true;
}

type ResolveFunction = (value: unknown, options: ResolveOptions) => unknown;

/**
 * Runs `work` with `fastResolve` in front of cdktf's `Tokenization.resolve`, restored afterwards (also
 * when `work` throws). Per call, so it composes with any number of Apps and stacks.
 */
export function withFastResolve<T>(work: () => T): T {
  return withReplaced(Tokenization as unknown as { resolve: ResolveFunction }, "resolve", fastResolve, work);
}

/** For tests: cdktf's own resolve of `value` (what `fastResolve` must equal). */
export function cdktfOwnResolve(value: unknown, options: ResolveOptions): unknown {
  return cdktfResolve(value, { ...options, preparing: options.preparing ?? false });
}
