/**
 * The committed form of a stack's HCL, made as cdktf renders it: `terraform fmt`'s layout
 * (./format-hcl.ts) with interpolation-only strings unwrapped (./unwrap-interpolations.ts).
 *
 * `withFormattedHcl` runs `work` (an App's `synth()`) with `TerraformStack.prototype.toHclTerraform`
 * returning that form, so cdktf writes each stack file once, already formatted, instead of writing it,
 * reading it back and writing it again (at 5,000 roles: 21 MB written twice and read once). Each
 * stack's text is handed to `onStack` (for its digest). The JSON format is not touched. Restored when
 * `work` returns or throws.
 *
 * A block body already in its committed form (the trust documents, ./direct-policy-document.ts: 80%
 * of a stack's lines) is handed to cdktf as one placeholder line (`committedRegion`) and put in place
 * of that line after the rest is formatted, so neither formatting nor unwrapping reads it again.
 */
import { randomHex } from "../runtime/random-hex";
import { TerraformStack } from "cdktf";
import { formatHcl } from "./format-hcl";
import { withReplaced } from "./scoped-patch";
import { unwrapInterpolationOnlyStrings, unwrapKeepingInCode } from "./unwrap-interpolations";

/** cdktf's raw HCL of a stack in its committed form. */
export const committedHcl = (raw: string): string => formatHcl(unwrapInterpolationOnlyStrings(raw));

interface HclStack {
  toHclTerraform(this: TerraformStack): { hcl: string; metadata: unknown };
}

/**
 * While withFormattedHcl runs: the committed regions handed out for each stack, in order, and what every
 * placeholder starts with (a random part in it: no config text can guess it, so no line of theirs is
 * taken for one).
 */
let regions:
  | {
      readonly placeholderPrefix: string;
      readonly byStack: WeakMap<TerraformStack, string[]>;
      /** Stacks rendered again without regions: text before a placeholder put the unwrapping out of step. */
      readonly refused: WeakSet<TerraformStack>;
    }
  | undefined;

/** The indentation a region's placeholder gets: it stands directly inside a top-level block. */
const REGION_INDENT = "  ";

/** Whether committedRegion hands out placeholders for `stack` (withFormattedHcl is running). */
export const committedRegionsOpen = (stack: TerraformStack): boolean =>
  regions !== undefined && !regions.refused.has(stack);

/**
 * Registers `committed`, the lines of a top-level block's body in their committed form (indented for
 * depth 1, values unwrapped and aligned as formatHcl would), and returns the one line to render in
 * their place; undefined when withFormattedHcl is not running (render the body for formatHcl then).
 */
export function committedRegion(stack: TerraformStack, committed: string): string | undefined {
  if (!regions) return undefined;
  let list = regions.byStack.get(stack);
  if (!list) regions.byStack.set(stack, (list = []));
  list.push(committed);
  return `${regions.placeholderPrefix}${list.length - 1}`;
}

/**
 * The stack's raw HCL in its committed form, each of its placeholders replaced by its region (every one,
 * exactly once); undefined when the unwrapping reads a placeholder inside a string or comment (text
 * before it, such as a heredoc, left the scan out of step: the regions' own text would be read so too).
 */
function committedWithRegions(stack: TerraformStack, raw: string): string | undefined {
  const list = regions?.byStack.get(stack);
  if (!list) return committedHcl(raw);
  regions!.byStack.delete(stack);
  const prefix = regions!.placeholderPrefix;
  const unwrapped = unwrapKeepingInCode(raw, prefix);
  if (unwrapped === undefined) return undefined;
  const formatted = formatHcl(unwrapped);
  // Each placeholder is found by its text (no regular expression over the whole stack), then checked to
  // be alone on its line at the indentation it was rendered for.
  const parts: string[] = [];
  const filled = new Set<number>();
  let from = 0;
  for (let at = formatted.indexOf(prefix); at !== -1; at = formatted.indexOf(prefix, at + prefix.length)) {
    const lineStart = at - REGION_INDENT.length;
    const newline = formatted.indexOf("\n", at);
    const lineEnd = newline === -1 ? formatted.length : newline;
    const digits = formatted.slice(at + prefix.length, lineEnd);
    const index = /^(?:0|[1-9]\d*)$/.test(digits) ? Number(digits) : -1;
    if (
      lineStart < from ||
      formatted.slice(lineStart, at) !== REGION_INDENT ||
      (lineStart > 0 && formatted.charCodeAt(lineStart - 1) !== 10) ||
      index < 0 ||
      index >= list.length ||
      filled.has(index)
    ) {
      throw new Error(
        `internal: committed region placeholder out of place in stack ${stack.node.id}: ${JSON.stringify(formatted.slice(Math.max(lineStart, 0), lineEnd))}`,
      );
    }
    filled.add(index);
    parts.push(formatted.slice(from, lineStart), list[index]!);
    from = lineEnd;
  }
  if (filled.size !== list.length) {
    throw new Error(
      `internal: ${list.length} committed regions were rendered for stack ${stack.node.id}, ${filled.size} found in its HCL`,
    );
  }
  parts.push(formatted.slice(from));
  return parts.join("");
}

/**
 * Runs `work` with every stack's HCL rendered in its committed form; `onStack` gets each stack's name,
 * text and how many block bodies reached it as committed regions (0 when the stack was rendered again
 * without them).
 */
export function withFormattedHcl<T>(
  onStack: (stack: string, hcl: string, committedRegions: number) => void,
  work: () => T,
): T {
  const prototype = TerraformStack.prototype as unknown as HclStack;
  const render = prototype.toHclTerraform;
  const previous = regions;
  regions = {
    placeholderPrefix: `gitlab_oidc_committed_${randomHex(8)}_`,
    byStack: new WeakMap(),
    refused: new WeakSet(),
  };
  try {
    return withReplaced(
      prototype,
      "toHclTerraform",
      function (this: TerraformStack) {
        let rendered = render.call(this);
        const committedRegions = regions!.byStack.get(this)?.length ?? 0;
        let hcl = committedWithRegions(this, rendered.hcl);
        if (hcl === undefined) {
          // Rendered again with every body for formatHcl, as stock cdktf's text would be formatted.
          regions!.refused.add(this);
          rendered = render.call(this);
          hcl = committedHcl(rendered.hcl);
        }
        onStack(this.node.id, hcl, regions!.refused.has(this) ? 0 : committedRegions);
        return { ...rendered, hcl };
      },
      work,
    );
  } finally {
    regions = previous;
  }
}
