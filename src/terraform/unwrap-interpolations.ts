/**
 * `"${aws_iam_role.x.arn}"` → `aws_iam_role.x.arn`: what `terraform fmt` (≥ 0.15) does to a string that
 * is one interpolation and nothing else. cdktf writes every reference that way; unwrapped, the
 * committed HCL reads like hand-written Terraform and stays stable under `terraform fmt`.
 *
 * A small scanner over HCL's string and template syntax: strings may nest inside interpolations
 * (`"${jsonencode({ "a" = "b" })}"`), `$${` is a literal, and heredocs are not produced by cdktf.
 */
export function unwrapInterpolationOnlyStrings(hcl: string): string {
  return unwrap(hcl, undefined)!;
}

/**
 * unwrapInterpolationOnlyStrings, or undefined when the scan reads `marker` inside a string literal or a
 * comment: a placeholder line (./formatted-hcl.ts) the scan must reach as code, as it would reach the
 * text the placeholder stands for.
 */
export function unwrapKeepingInCode(hcl: string, marker: string): string | undefined {
  return unwrap(hcl, marker);
}

function unwrap(hcl: string, marker: string | undefined): string | undefined {
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
      const end = endOfString(hcl, i);
      const literal = hcl.slice(i, end);
      if (marker !== undefined && literal.includes(marker)) return undefined;
      const inner = literal.slice(3, -2);
      const onlyInterpolation =
        literal.startsWith('"${') && literal.endsWith('}"') && endOfInterpolation(literal, 1) === literal.length - 1;
      out += onlyInterpolation ? unwrap(inner, undefined)! : literal;
      i = end;
    } else {
      // Up to the next character that may start a comment or a string, in one piece.
      const next = nextOf(CODE_STOP, hcl, i + 1);
      out += hcl.slice(i, next);
      i = next;
    }
  }
  return out;
}

// The characters at which the scan can change state: found by a regular expression rather than
// character by character in JavaScript, which on a cold start (the main job's) ran ~1 ms a run.
/** Outside strings: what may start a comment or a string. */
const CODE_STOP = /["#/]/g;
/** Inside a string: an escape, its end, or what may start a template sequence. */
const STRING_STOP = /[\\"$%]/g;
/** Inside an interpolation: a string, or a brace. */
const INTERPOLATION_STOP = /["{}]/g;

/** Index of the first character `stops` matches in `text` at or after `from`; text.length if none. */
function nextOf(stops: RegExp, text: string, from: number): number {
  stops.lastIndex = from;
  return stops.exec(text)?.index ?? text.length;
}

/**
 * Whether `text` is one whole string literal to this scanner (it ends at `text`'s last character), so
 * unwrapping it alone gives what unwrapping it within a stack's text does: how a writer that unwraps
 * its own values (./direct-policy-document.ts) knows its result is this scanner's.
 */
export function isOneStringLiteral(text: string): boolean {
  if (text.charCodeAt(0) !== 34 /* " */) return false;
  try {
    return endOfString(text, 0) === text.length;
  } catch {
    return false;
  }
}

/** Index just past the string literal that opens at `start` (a `"`). */
function endOfString(text: string, start: number): number {
  let i = nextOf(STRING_STOP, text, start + 1);
  while (i < text.length) {
    if (text[i] === "\\") i += 2;
    else if (text[i] === '"') return i + 1;
    else if (text.startsWith("$${", i) || text.startsWith("%%{", i)) i += 3;
    else if (text.startsWith("${", i) || text.startsWith("%{", i)) i = endOfInterpolation(text, i);
    else i++;
    i = nextOf(STRING_STOP, text, i);
  }
  throw new Error(`unterminated string in synthesized HCL at offset ${start}`);
}

/** Index just past the `}` that closes the interpolation opening at `start` (`${` or `%{`). */
function endOfInterpolation(text: string, start: number): number {
  let depth = 0;
  let i = nextOf(INTERPOLATION_STOP, text, start + 1);
  while (i < text.length) {
    const c = text[i];
    if (c === '"') {
      i = nextOf(INTERPOLATION_STOP, text, endOfString(text, i));
      continue;
    }
    if (c === "{") depth++;
    else if (--depth === 0) return i + 1;
    i = nextOf(INTERPOLATION_STOP, text, i + 1);
  }
  throw new Error(`unterminated interpolation in synthesized HCL at offset ${start}`);
}
