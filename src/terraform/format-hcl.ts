/**
 * Formats cdktf's HCL output the way `terraform fmt` does: two-space indentation, `=` aligned across
 * runs of one-line attributes, and spaces inside one-line object braces.
 *
 * Written for the regular HCL cdktf emits (one attribute, block header or list element per line, no
 * heredocs or comments), in plain JavaScript because HCL's own formatter (@cdktf/hcl-tools, a Go
 * WebAssembly build) takes ~0.3 s to start — a third of the main job. The tests check this against
 * that formatter and against `terraform fmt` itself.
 */

interface Line {
  readonly text: string;
  readonly depth: number;
  /**
   * Width of the attribute name before ` = `, for one-line attributes that take part in alignment; -1
   * for any other line (one shape for every line: this loop runs for every line of 20 MB at 5,000 roles).
   */
  readonly keyWidth: number;
}

/** Indentation by depth, made once. */
const indents: string[] = [""];
const indent = (depth: number): string => (indents[depth] ??= "  ".repeat(depth));

export function formatHcl(raw: string): string {
  const lines: Line[] = [];
  let depth = 0;
  for (const rawLine of raw.split("\n")) {
    const text = spaceOneLineBraces(rawLine.trim());
    const { leadingClosers, net } = bracketBalance(text);
    const lineDepth = Math.max(0, depth - leadingClosers);
    depth = Math.max(0, depth + net);
    const key = net === 0 ? attributeKey(text) : undefined;
    lines.push({ text, depth: lineDepth, keyWidth: key === undefined ? -1 : key.length });
  }

  const out: string[] = [];
  for (let i = 0; i < lines.length; ) {
    // A run of one-line attributes at one depth shares the column of its `=`.
    let end = i;
    let width = 0;
    while (end < lines.length && lines[end].keyWidth >= 0 && lines[end].depth === lines[i].depth) {
      width = Math.max(width, lines[end].keyWidth);
      end++;
    }
    if (end > i) {
      for (let j = i; j < end; j++) {
        const line = lines[j];
        const key = line.text.slice(0, line.keyWidth);
        const value = line.text.slice(line.keyWidth).replace(/^\s*=\s*/, "");
        out.push(`${indent(line.depth)}${key.padEnd(width)} = ${value}`);
      }
      i = end;
    } else {
      const line = lines[i++];
      out.push(line.text === "" ? "" : `${indent(line.depth)}${line.text}`);
    }
  }
  const text = out.join("\n").replace(/\n{3,}/g, "\n\n");
  let end = text.length;
  while (end > 0 && text[end - 1] === "\n") end--;
  return `${text.slice(0, end)}\n`;
}

/** Calls `visit` with each character outside string literals (and template interpolations' strings). */
function forEachCodeChar(text: string, visit: (char: string, index: number) => void): void {
  let inString = false;
  let interpolationDepth = 0;
  const stack: boolean[] = []; // for each open interpolation: were we in a string before it
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
      else if ((c === "$" || c === "%") && text[i + 1] === "{") {
        if (text[i - 1] === c) continue; // $${ and %%{ are literals
        stack.push(true);
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
    if (stack.length > 0) {
      if (c === "{") interpolationDepth++;
      else if (c === "}" && interpolationDepth-- === 0) {
        stack.pop();
        inString = true;
        interpolationDepth = 0;
        continue;
      }
    }
    visit(c, i);
  }
}

/**
 * Closers at the start of the line, and the line's net change in open brackets: what forEachCodeChar
 * visits, counted in one loop without a call per character (the formatter's hot path: every line of
 * 20 MB at 5,000 roles). A line without a quote has no string to skip.
 */
function bracketBalance(text: string): { leadingClosers: number; net: number } {
  if (text.includes('"')) return bracketBalanceOfCode(text);
  let net = 0;
  let leadingClosers = 0;
  let seenOther = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === OPEN_BRACE || c === OPEN_BRACKET || c === OPEN_PAREN) {
      net++;
      seenOther = true;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET || c === CLOSE_PAREN) {
      net--;
      if (!seenOther) leadingClosers++;
    } else if (c !== SPACE) {
      seenOther = true;
    }
  }
  return { leadingClosers, net };
}

const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const OPEN_PAREN = 0x28;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const CLOSE_PAREN = 0x29;
const SPACE = 0x20;

/**
 * bracketBalance for a line with strings: their contents (outside interpolations) do not count. The
 * scanner of forEachCodeChar, inlined.
 */
function bracketBalanceOfCode(text: string): { leadingClosers: number; net: number } {
  let net = 0;
  let leadingClosers = 0;
  let seenOther = false;
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
    if (c === "{" || c === "[" || c === "(") {
      net++;
      seenOther = true;
    } else if (c === "}" || c === "]" || c === ")") {
      net--;
      if (!seenOther) leadingClosers++;
    } else if (c !== " ") {
      seenOther = true;
    }
  }
  return { leadingClosers, net };
}

/** `name = value` → `name` (or a quoted name); undefined for anything else. */
function attributeKey(text: string): string | undefined {
  const match = /^("(?:[^"\\]|\\.)*"|[A-Za-z_][A-Za-z0-9_-]*)\s*=(?!=)/.exec(text);
  return match?.[1];
}

/** `({"a" = 1})` → `({ "a" = 1 })`, for braces opened and closed on the same line. */
function spaceOneLineBraces(text: string): string {
  if (!text.includes("{") || !text.includes("}")) return text; // most lines: no pair to scan for
  const opens: number[] = [];
  const pairs: [number, number][] = [];
  forEachCodeChar(text, (c, i) => {
    if (c === "{") opens.push(i);
    else if (c === "}" && opens.length > 0) pairs.push([opens.pop()!, i]);
  });
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
