/**
 * The committed form of a stack's HCL, made as cdktf renders it: `terraform fmt`'s layout
 * (./format-hcl.ts) with interpolation-only strings unwrapped (./unwrap-interpolations.ts).
 *
 * `withFormattedHcl` runs `work` (an App's `synth()`) with `TerraformStack.prototype.toHclTerraform`
 * returning that form, so cdktf writes each stack file once, already formatted, instead of writing it,
 * reading it back and writing it again (at 5,000 roles: 21 MB written twice and read once). Each
 * stack's text is handed to `onStack` (for its digest). The JSON format is not touched. Restored when
 * `work` returns or throws.
 */
import { TerraformStack } from "cdktf";
import { formatHcl } from "./format-hcl";
import { withReplaced } from "./scoped-patch";
import { unwrapInterpolationOnlyStrings } from "./unwrap-interpolations";

/** cdktf's raw HCL of a stack in its committed form. */
export const committedHcl = (raw: string): string => formatHcl(unwrapInterpolationOnlyStrings(raw));

interface HclStack {
  toHclTerraform(this: TerraformStack): { hcl: string; metadata: unknown };
}

export function withFormattedHcl<T>(onStack: (stack: string, hcl: string) => void, work: () => T): T {
  const prototype = TerraformStack.prototype as unknown as HclStack;
  const render = prototype.toHclTerraform;
  return withReplaced(
    prototype,
    "toHclTerraform",
    function (this: TerraformStack) {
      const rendered = render.call(this);
      const hcl = committedHcl(rendered.hcl);
      onStack(this.node.id, hcl);
      return { ...rendered, hcl };
    },
    work,
  );
}
