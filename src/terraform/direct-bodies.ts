/**
 * What the elements that write their own HCL share (./direct-policy-document.ts, the trust policies;
 * ./direct-exclusive.ts, the roles' exclusive resources): while `withDirectBodies` runs (the main job's
 * synth, ./cdktf-hooks.ts), such an element hands cdktf its body as one string under DIRECT_BODY, and
 * cdktf's `renderDatasource` and `renderResource` write that body as it is, between the block's header
 * and its closing brace; every other element goes through them unchanged.
 *
 * Values are written as cdktf renders a string (its `renderString`: quotes, heredocs) and, for the
 * committed form (./formatted-hcl.ts), unwrapped and checked to be lines formatHcl leaves as they are.
 */
import type { TerraformStack } from "cdktf";
import { resolve as resolveInStack } from "cdktf/lib/_tokens";
// The module object itself, which cdktf's stack calls `renderDatasource` and `renderResource` through.
// eslint-disable-next-line @typescript-eslint/no-require-imports
import render = require("cdktf/lib/hcl/render");
import { isPlainKeyOrString } from "./fast-resolve";
import { isInertValue } from "./format-hcl";
import { withReplaced } from "./scoped-patch";
import { isOneStringLiteral, unwrapInterpolationOnlyStrings } from "./unwrap-interpolations";

/** The key of a direct body in an element's fragment: no provider attribute is named so. */
export const DIRECT_BODY = "gitlab_oidc_direct_hcl_body";

/** Whether elements hand cdktf their direct body (withDirectBodies is running). */
let active = false;

export const directBodiesActive = (): boolean => active;

/** A string as cdktf renders a string attribute or a string list's element (quotes, heredocs). */
export const renderString = (value: string): string => render.renderListValue(value, "stringList") as string;

/** Committed values by their text, while withDirectBodies runs (null: not inert). */
let committedValues = new Map<string, string | null>();

/**
 * A string value as it stands in the committed HCL (rendered by cdktf, then unwrapped), or undefined
 * where formatHcl would not leave its line as it is (then the element is not written directly).
 */
export function committedValue(text: string): string | undefined {
  let written = committedValues.get(text);
  if (written === undefined) {
    const rendered = isPlainKeyOrString(text) ? renderString(text) : "";
    const unwrapped = isOneStringLiteral(rendered) ? unwrapInterpolationOnlyStrings(rendered) : "";
    written = isInertValue(unwrapped) ? unwrapped : null;
    committedValues.set(text, written);
  }
  return written ?? undefined;
}

/**
 * Values resolved in each stack, by their JSON, while withDirectBodies runs: cdktf resolves a token to
 * the same text wherever it stands in one stack's attributes (every trust policy names one provider).
 */
let resolvedValues = new WeakMap<TerraformStack, Map<string, unknown>>();

/** `value` resolved by cdktf in `stack`, once per stack for equal plain-string lists. */
export function resolveOnce(stack: TerraformStack, value: unknown): unknown {
  if (!Array.isArray(value) || !value.every((item) => typeof item === "string")) {
    return resolveInStack(stack, value);
  }
  let resolved = resolvedValues.get(stack);
  if (!resolved) resolvedValues.set(stack, (resolved = new Map()));
  const key = JSON.stringify(value);
  if (!resolved.has(key)) resolved.set(key, resolveInStack(stack, value));
  return resolved.get(key);
}

/** cdktf's renderDatasource and renderResource, as this module calls them. */
type Renderer = (fragment: unknown) => { hcl: string; metadata: unknown };

/** `renderX` writing a fragment that holds a direct body as `keyword "type" "name" {…}`, others as cdktf does. */
function directOr(keyword: "data" | "resource", stock: Renderer): Renderer {
  return (fragment) => {
    const [type, byName] = Object.entries(fragment as Record<string, Record<string, unknown>>)[0]!;
    const [name, attributes] = Object.entries(byName)[0]! as [string, Record<string, unknown>];
    const body = attributes[DIRECT_BODY];
    if (typeof body !== "string") return stock(fragment);
    return {
      hcl: [`${keyword} "${type}" "${name}" {`, ...(body ? [body] : []), "}"].join("\n"),
      metadata: { [keyword]: { [type]: { [name]: { "//": attributes["//"] } } } },
    };
  };
}

/** Runs `work` with direct bodies handed to cdktf and written as they are; restored when `work` returns or throws. */
export function withDirectBodies<T>(work: () => T): T {
  const renderer = render as unknown as { renderDatasource: Renderer; renderResource: Renderer };
  const previous = active;
  active = true;
  try {
    return withReplaced(renderer, "renderDatasource", directOr("data", renderer.renderDatasource), () =>
      withReplaced(renderer, "renderResource", directOr("resource", renderer.renderResource), work),
    );
  } finally {
    active = previous;
    if (!previous) {
      resolvedValues = new WeakMap();
      committedValues = new Map();
    }
  }
}
