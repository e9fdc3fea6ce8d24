/**
 * Literal strings in the synthesized Terraform. Terraform reads every string in `cdk.tf` and in
 * `cdk.tf.json` as a template: `${…}` is an expression and `%{…}` a directive, so a value from the
 * config (a tag, a description, an ARN) must have them escaped (`$${`, `%%{`) or it runs as code.
 * cdktf 0.21's HCL renderer (`cdktf/lib/hcl/render.js`) escapes neither, leaves `"` unescaped in any
 * string that contains `${`, never escapes `\`, writes a string with a newline as a heredoc
 * (`<<EOF`, which a line `EOF` ends), and writes map keys between quotes without escaping them. So the
 * constructs hand cdktf every literal through `literalFor(scope)` (`./literal-for.ts`), already escaped
 * for the format the stack is written in; the reader (`synthesized-stacks.ts`) undoes it with
 * `fromTemplate`. Map keys too: Terraform reads an object key in `cdk.tf.json` as a template as well
 * (`{"$${x}": 1}` is `{"${x}": 1}` in `terraform console`).
 *
 * Plain string functions only, no cdktf: the reader, and with it `explain` and the report, load none.
 */

/** `${` → `$${`, `%{` → `%%{`: the template escapes, the same in HCL and in Terraform's JSON syntax. */
export function escapeTemplate(value: string): string {
  // No `{`, nothing to escape: most values, and this runs for every literal of a synth.
  if (!value.includes("{")) return value;
  return value.replace(/\$\{/g, "$$$${").replace(/%\{/g, "%%{");
}

/** What Terraform makes of a literal template string: `$${` → `${`, `%%{` → `%{`. */
export function fromTemplate(value: string): string {
  if (!value.includes("{")) return value;
  return value.replace(/\$\$\{/g, "${").replace(/%%\{/g, "%{");
}

/**
 * The inside of an HCL quoted string that holds exactly `value`: backslash, quote and control characters
 * escaped, templates escaped, nothing that ends the string or starts an expression.
 */
export function hclStringBody(value: string): string {
  // Nothing hclStringBodyEscaped would change (no character it escapes, no `{`): the value itself.
  return NEEDS_ESCAPE.test(value) ? hclStringBodyEscaped(value) : value;
}

// eslint-disable-next-line no-control-regex -- control characters are what hclStringBody escapes
const NEEDS_ESCAPE = /[\\"\u0000-\u001f\u007f\u2028\u2029{]/;

/** hclStringBody for a value that may hold a character to escape. */
export function hclStringBodyEscaped(value: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are what it escapes
  const escaped = value.replace(/[\\"\u0000-\u001f\u007f\u2028\u2029]/g, (char) => {
    switch (char) {
      case "\\":
        return "\\\\";
      case '"':
        return '\\"';
      case "\n":
        return "\\n";
      case "\r":
        return "\\r";
      case "\t":
        return "\\t";
      default:
        return `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`;
    }
  });
  return escapeTemplate(escaped);
}

/**
 * A literal for a string cdktf writes inside an expression (`toset(["…"])`, in either format): cdktf
 * quotes it and escapes `${` (and newlines) itself, but nothing else.
 */
export function expressionLiteral(value: string): string {
  return hclStringBody(value).replace(/\$\$\{/g, "${");
}

/** Every string (keys included) of a JSON-like structure through `expressionLiteral`, for `Fn.jsonencode`. */
export function expressionLiterals(value: unknown): unknown {
  if (typeof value === "string") return expressionLiteral(value);
  if (Array.isArray(value)) return value.map(expressionLiterals);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([key, inner]) => [expressionLiteral(key), expressionLiterals(inner)]),
    );
  }
  return value;
}

/** `value` as an HCL quoted string literal. */
export function hclString(value: string): string {
  return `"${hclStringBody(value)}"`;
}
