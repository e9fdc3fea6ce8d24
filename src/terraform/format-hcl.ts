/**
 * Formats cdktf's HCL output the way `terraform fmt` does: two-space indentation, `=` aligned across
 * runs of one-line attributes, and spaces inside one-line object braces.
 *
 * Written for the regular HCL cdktf emits (one attribute, block header or list element per line, no
 * heredocs or comments), in plain JavaScript because HCL's own formatter (@cdktf/hcl-tools, a Go
 * WebAssembly build) takes ~0.3 s to start — a third of the main job. The tests check this against
 * that formatter and against `terraform fmt` itself.
 */

/** Indentation by depth, made once. */
const indents: string[] = [""];
const indent = (depth: number): string => (indents[depth] ??= "  ".repeat(depth));

/**
 * One pass over the lines (this runs over every line of 20 MB at 5,000 roles: no object per line, and
 * one scan per line, in `balance`), then one over the runs of attributes.
 */
export function formatHcl(raw: string): string {
  const texts = raw.split("\n");
  const count = texts.length;
  const depths = new Int32Array(count);
  /**
   * Width of the attribute name before ` = `, for one-line attributes that take part in alignment; -1
   * for any other line.
   */
  const keyWidths = new Int32Array(count);
  let depth = 0;
  for (let i = 0; i < count; i++) {
    const text = spaceOneLineBraces(texts[i]!.trim());
    texts[i] = text;
    balance(text);
    const lineDepth = depth - leadingClosers;
    depths[i] = lineDepth > 0 ? lineDepth : 0;
    depth = depth + net > 0 ? depth + net : 0;
    keyWidths[i] = net === 0 ? attributeKeyWidth(text) : -1;
  }

  const out: string[] = [];
  for (let i = 0; i < count; ) {
    // A run of one-line attributes at one depth shares the column of its `=`.
    let end = i;
    let width = 0;
    while (end < count && keyWidths[end]! >= 0 && depths[end] === depths[i]) {
      if (keyWidths[end]! > width) width = keyWidths[end]!;
      end++;
    }
    if (end > i) {
      for (let j = i; j < end; j++) {
        const text = texts[j]!;
        const keyWidth = keyWidths[j]!;
        out.push(`${indent(depths[j]!)}${text.slice(0, keyWidth).padEnd(width)} = ${valueAfterEquals(text, keyWidth)}`);
      }
      i = end;
    } else {
      const text = texts[i]!;
      out.push(text === "" ? "" : `${indent(depths[i]!)}${text}`);
      i++;
    }
  }
  const text = out.join("\n").replace(/\n{3,}/g, "\n\n");
  let end = text.length;
  while (end > 0 && text.charCodeAt(end - 1) === 10) end--;
  return `${text.slice(0, end)}\n`;
}

/**
 * Whether formatHcl writes a line made of `value` (a one-line attribute's value after `name = `, or a
 * list element before its `,`) with `value` exactly as it is: one line with nothing for `trim` to
 * remove, no bracket outside its strings that would move a depth, no one-line braces to space, and no
 * `name =` of its own to align. How a writer that lays out its own lines (./direct-policy-document.ts)
 * knows its layout is formatHcl's; anything else goes through formatHcl.
 */
export function isInertValue(value: string): boolean {
  return PLAIN_VALUE.test(value) || isInertValueByScan(value);
}

/**
 * Values every check of isInertValueByScan passes at a glance: a string literal with nothing in it that
 * a scan looks at (no escape, template sequence, bracket or line terminator), or a plain reference. One
 * match instead of four character loops, which on a cold start took ~1.5 ms of the example's synth.
 */
const PLAIN_VALUE = /^(?:"[^"\\$%{}[\]()\n\r\u2028\u2029]*"|[A-Za-z_][A-Za-z0-9_.-]*)$/;

/** isInertValue by its definition (above), character by character. */
export function isInertValueByScan(value: string): boolean {
  if (value.length === 0 || value.trim() !== value) return false;
  for (let i = 0; i < value.length; i++) if (isLineTerminator(value.charCodeAt(i))) return false;
  balance(value);
  return (
    net === 0 && leadingClosers === 0 && spaceOneLineBraces(value) === value && attributeKeyWidth(value) === -1
  );
}

/** `balance`'s results for the line it last scanned (module state: no object per line). */
let leadingClosers = 0;
let net = 0;

/**
 * The line's closers before anything else (before its first opener and its first character outside
 * strings that is neither a bracket nor a space), and its net change in open brackets; brackets inside
 * string literals (outside their interpolations) do not count. One scan, as lineCode reads the line.
 */
function balance(text: string): void {
  leadingClosers = 0;
  net = 0;
  let leading = true; // no opener and no other character seen yet
  let inString = false;
  let interpolationDepth = 0;
  let openInterpolations = 0;
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if (inString) {
      if (c !== BACKSLASH && c !== QUOTE && c !== DOLLAR && c !== PERCENT) {
        // To the next character that matters in a string, in one search (most of a line is strings).
        STRING_STOP.lastIndex = i + 1;
        const next = STRING_STOP.exec(text);
        if (next === null) break;
        i = next.index;
        c = text.charCodeAt(i);
      }
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
      else if ((c === DOLLAR || c === PERCENT) && text.charCodeAt(i + 1) === OPEN_BRACE) {
        if (text.charCodeAt(i - 1) === c) continue; // $${ and %%{ are literals
        openInterpolations++;
        interpolationDepth = 0;
        inString = false;
        i++;
      }
      continue;
    }
    if (c === QUOTE) {
      inString = true;
      continue;
    }
    if (openInterpolations > 0) {
      if (c === OPEN_BRACE) interpolationDepth++;
      else if (c === CLOSE_BRACE && interpolationDepth-- === 0) {
        openInterpolations--;
        inString = true;
        interpolationDepth = 0;
        continue;
      }
    }
    if (c === OPEN_BRACE || c === OPEN_BRACKET || c === OPEN_PAREN) {
      net++;
      leading = false;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET || c === CLOSE_PAREN) {
      net--;
      if (leading) leadingClosers++;
    } else if (c !== SPACE) {
      leading = false;
    }
  }
}

/** Inside a string literal, the characters `balance` acts on. */
const STRING_STOP = /[\\"$%]/g;

/** `balance` of one line, as an object: for tests. */
export function balanceOf(text: string): { leadingClosers: number; net: number } {
  balance(text);
  return { leadingClosers, net };
}

const BACKSLASH = 92;
const QUOTE = 34;
const DOLLAR = 36;
const PERCENT = 37;
const SPACE = 32;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;
const OPEN_BRACKET = 91;
const CLOSE_BRACKET = 93;
const OPEN_PAREN = 40;
const CLOSE_PAREN = 41;

/**
 * The width of the attribute name of a `name = value` line (`name`, or a quoted name), -1 for anything
 * else: what /^("(?:[^"\\]|\\.)*"|[A-Za-z_][A-Za-z0-9_-]*)\s*=(?!=)/ matches as its first group.
 */
function attributeKeyWidth(text: string): number {
  let i: number;
  const first = text.charCodeAt(0);
  if (first === QUOTE) {
    i = 1;
    for (;;) {
      if (i >= text.length) return -1;
      const c = text.charCodeAt(i);
      if (c === BACKSLASH) {
        // `\\.`: any character but a line terminator follows
        if (i + 1 >= text.length || isLineTerminator(text.charCodeAt(i + 1))) return -1;
        i += 2;
      } else if (c === QUOTE) {
        i++;
        break;
      } else i++;
    }
  } else if (isIdentifierStart(first)) {
    i = 1;
    while (i < text.length && isIdentifierPart(text.charCodeAt(i))) i++;
  } else return -1;
  const width = i;
  while (i < text.length && isRegExpSpace(text.charCodeAt(i))) i++;
  if (text.charCodeAt(i) !== 61 /* = */ || text.charCodeAt(i + 1) === 61) return -1;
  return width;
}

/** The value of `name = value`: after the `=` that follows the name, and the spaces around it. */
function valueAfterEquals(text: string, keyWidth: number): string {
  let i = keyWidth;
  while (isRegExpSpace(text.charCodeAt(i))) i++;
  i++; // the `=`
  while (i < text.length && isRegExpSpace(text.charCodeAt(i))) i++;
  return text.slice(i);
}

const isIdentifierStart = (c: number): boolean => (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
const isIdentifierPart = (c: number): boolean =>
  isIdentifierStart(c) || (c >= 48 && c <= 57) || c === 45;
const isLineTerminator = (c: number): boolean => c === 10 || c === 13 || c === 0x2028 || c === 0x2029;
/** RegExp's `\s`: what `.trim()` also removes. */
const isRegExpSpace = (c: number): boolean =>
  c === 32 ||
  (c >= 9 && c <= 13) ||
  c === 0xa0 ||
  c === 0x1680 ||
  (c >= 0x2000 && c <= 0x200a) ||
  c === 0x2028 ||
  c === 0x2029 ||
  c === 0x202f ||
  c === 0x205f ||
  c === 0x3000 ||
  c === 0xfeff;

/** The code of one line: its brackets outside string literals, and where its first other character is. */
interface LineCode {
  /** Index of each of `{[()]}` outside string literals (and template interpolations' strings), in order. */
  readonly brackets: number[];
  /** Index of the first character outside strings that is neither a bracket nor a space; -1 if none. */
  readonly firstOther: number;
}

/**
 * Scans a line once, skipping string literals (their contents outside interpolations, and the quotes).
 * One loop without a call per character: it runs for every character of 20 MB at 5,000 roles.
 */
function lineCode(text: string): LineCode {
  const brackets: number[] = [];
  let firstOther = -1;
  let inString = false;
  let interpolationDepth = 0;
  let openInterpolations = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
      else if ((c === "$" || c === "%") && text[i + 1] === "{") {
        if (text[i - 1] === c) continue; // $${ and %%{ are literals
        openInterpolations++;
        interpolationDepth = 0;
        inString = false;
        i++;
      }
      continue;
    }
    if (c === '"') {
      inString = true;
      continue;
    }
    if (openInterpolations > 0) {
      if (c === "{") interpolationDepth++;
      else if (c === "}" && interpolationDepth-- === 0) {
        openInterpolations--;
        inString = true;
        interpolationDepth = 0;
        continue;
      }
    }
    if (c === "{" || c === "}" || c === "[" || c === "]" || c === "(" || c === ")") brackets.push(i);
    else if (firstOther === -1 && c !== " ") firstOther = i;
  }
  return { brackets, firstOther };
}

/** `({"a" = 1})` → `({ "a" = 1 })`, for braces opened and closed on the same line. */
function spaceOneLineBraces(text: string): string {
  if (!text.includes("{") || !text.includes("}")) return text; // most lines: no pair to scan for
  const opens: number[] = [];
  const pairs: [number, number][] = [];
  for (const i of lineCode(text).brackets) {
    if (text[i] === "{") opens.push(i);
    else if (text[i] === "}" && opens.length > 0) pairs.push([opens.pop()!, i]);
  }
  const insertAfter = new Set<number>();
  const insertBefore = new Set<number>();
  for (const [open, close] of pairs) {
    if (close === open + 1) continue; // {}
    if (text[open + 1] !== " ") insertAfter.add(open);
    if (text[close - 1] !== " ") insertBefore.add(close);
  }
  if (insertAfter.size === 0 && insertBefore.size === 0) return text;
  let out = "";
  for (let i = 0; i < text.length; i++) {
    if (insertBefore.has(i)) out += " ";
    out += text[i];
    if (insertAfter.has(i)) out += " ";
  }
  return out;
}
