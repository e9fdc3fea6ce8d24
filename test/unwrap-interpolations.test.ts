/**
 * src/terraform/unwrap-interpolations.ts finds the characters where its scan changes state with regular
 * expressions (faster on a cold start). Its results are held here to the scanner as first written, one
 * character at a time, on random text of HCL's string and template syntax: the same output, the same
 * `undefined` for a marker met inside a literal or a comment, and the same errors.
 */
import {
  isOneStringLiteral,
  unwrapInterpolationOnlyStrings,
  unwrapKeepingInCode,
} from "../src/terraform/unwrap-interpolations";
import { randomText, seeded } from "./support/seeded";

/** The reference: the scanner character by character. */
const reference = {
  unwrap(hcl: string, marker: string | undefined): string | undefined {
    let out = "";
    let i = 0;
    while (i < hcl.length) {
      if (hcl[i] === "#" || (hcl[i] === "/" && hcl[i + 1] === "/")) {
        const end = hcl.indexOf("\n", i);
        const stop = end === -1 ? hcl.length : end;
        const comment = hcl.slice(i, stop);
        if (marker !== undefined && comment.includes(marker)) return undefined;
        out += comment;
        i = stop;
      } else if (hcl[i] === '"') {
        const end = reference.endOfString(hcl, i);
        const literal = hcl.slice(i, end);
        if (marker !== undefined && literal.includes(marker)) return undefined;
        const only =
          literal.startsWith('"${') &&
          literal.endsWith('}"') &&
          reference.endOfInterpolation(literal, 1) === literal.length - 1;
        out += only ? reference.unwrap(literal.slice(3, -2), undefined)! : literal;
        i = end;
      } else {
        let next = i + 1;
        while (next < hcl.length && hcl[next] !== '"' && hcl[next] !== "#" && hcl[next] !== "/") next++;
        out += hcl.slice(i, next);
        i = next;
      }
    }
    return out;
  },
  endOfString(text: string, start: number): number {
    let i = start + 1;
    while (i < text.length) {
      if (text[i] === "\\") i += 2;
      else if (text[i] === '"') return i + 1;
      else if (text.startsWith("$${", i) || text.startsWith("%%{", i)) i += 3;
      else if (text.startsWith("${", i) || text.startsWith("%{", i))
        i = reference.endOfInterpolation(text, i);
      else i++;
    }
    throw new Error(`unterminated string in synthesized HCL at offset ${start}`);
  },
  endOfInterpolation(text: string, start: number): number {
    let depth = 0;
    let i = start + 1;
    while (i < text.length) {
      const c = text[i];
      if (c === '"') {
        i = reference.endOfString(text, i);
        continue;
      }
      if (c === "{") depth++;
      else if (c === "}" && --depth === 0) return i + 1;
      i++;
    }
    throw new Error(`unterminated interpolation in synthesized HCL at offset ${start}`);
  },
  isOneStringLiteral(text: string): boolean {
    if (text.charCodeAt(0) !== 34) return false;
    try {
      return reference.endOfString(text, 0) === text.length;
    } catch {
      return false;
    }
  },
};

/** What `f` returns, or the message it throws. */
function outcome<T>(f: () => T): { value: T } | { error: string } {
  try {
    return { value: f() };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

const MARKER = "__GITLAB_OIDC_REGION__";
/** HCL's string and template syntax in pieces, so that random text hits every state of the scan. */
const PIECES = [
  '"',
  '"${',
  "${",
  "%{",
  "$${",
  "%%{",
  "$",
  "%",
  "{",
  "}",
  '}"',
  "\\",
  '\\"',
  "#",
  "//",
  "/",
  "\n",
  " = ",
  "aws_iam_role.x.arn",
  "é",
  MARKER,
];

describe("unwrapping interpolation-only strings", () => {
  test("GIVEN 1,200 random texts WHEN each is scanned THEN every result is the character-by-character scanner's", () => {
    const random = seeded(2025);
    const differences: unknown[] = [];
    const kinds = new Set<string>();
    for (let n = 0; n < 1200; n++) {
      // GIVEN a random text, sometimes a well-formed literal around one
      const body = randomText(random, PIECES, 14);
      const text = random(3) === 0 ? `"${body}"` : body;
      // WHEN both scan it
      const ours = [
        outcome(() => unwrapInterpolationOnlyStrings(text)),
        outcome(() => unwrapKeepingInCode(text, MARKER)),
        isOneStringLiteral(text),
      ];
      const theirs = [
        outcome(() => reference.unwrap(text, undefined)),
        outcome(() => reference.unwrap(text, MARKER)),
        reference.isOneStringLiteral(text),
      ];
      if (JSON.stringify(ours) !== JSON.stringify(theirs)) differences.push({ text, ours, theirs });
      for (const result of theirs)
        kinds.add(typeof result === "boolean" ? String(result) : Object.keys(result)[0]!);
    }
    // THEN the results (or errors) are equal, and the texts reached every kind of result
    expect(differences.slice(0, 3)).toEqual([]);
    expect([...kinds].sort()).toEqual(["error", "false", "true", "value"]);
  });

  test("GIVEN cdktf's shapes WHEN unwrapped THEN a lone interpolation loses its quotes and nothing else does", () => {
    // GIVEN references, a nested string, an escaped template and a comment
    const hcl = [
      'role = "${aws_iam_role.x.arn}"',
      'policy = "${jsonencode({ "a" = "${b.c}" })}"',
      'name = "prefix-${var.x}"',
      'literal = "$${not.a.reference}"',
      '# "${kept.in.comment}"',
    ].join("\n");
    // WHEN unwrapped
    const result = unwrapInterpolationOnlyStrings(hcl);
    // THEN
    expect(result.split("\n")).toEqual([
      "role = aws_iam_role.x.arn",
      'policy = jsonencode({ "a" = b.c })',
      'name = "prefix-${var.x}"',
      'literal = "$${not.a.reference}"',
      '# "${kept.in.comment}"',
    ]);
  });

  test("GIVEN an unterminated string WHEN scanned THEN the error names its offset", () => {
    expect(() => unwrapInterpolationOnlyStrings('a = "b')).toThrow(
      "unterminated string in synthesized HCL at offset 4",
    );
    expect(() => unwrapInterpolationOnlyStrings('a = "${b"')).toThrow(
      "unterminated string in synthesized HCL at offset 8",
    );
  });
});
