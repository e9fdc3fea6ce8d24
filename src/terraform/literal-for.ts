/**
 * The escape a construct hands cdktf its literals through, chosen by the format its stack is written in
 * (the escapes themselves are `./literal.ts`, which does not load cdktf).
 */
import { TerraformStack } from "cdktf";
import type { IConstruct } from "constructs";
import { escapeTemplate, hclStringBody } from "./literal";

/**
 * The escape for literals in `scope`'s stack: for HCL the body of a quoted string (cdktf adds the quotes
 * and, every `"` being escaped already, adds nothing else); for JSON the template escape (JSON.stringify
 * does the rest). Map keys go through it too: cdktf quotes a key that is not an identifier, and an
 * identifier key is a literal.
 */
export function literalFor(scope: IConstruct): (value: string) => string {
  const synthesizer = TerraformStack.of(scope).synthesizer as { hclOutput?: boolean };
  return synthesizer.hclOutput === true ? hclStringBody : escapeTemplate;
}

/** Every key and value of a string map through `literal`. */
export function literalMap(
  map: Readonly<Record<string, string>>,
  literal: (value: string) => string,
): Record<string, string> {
  return Object.fromEntries(Object.entries(map).map(([key, value]) => [literal(key), literal(value)]));
}
