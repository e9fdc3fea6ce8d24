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
    const { leadingClosers, net } = bracketBalance(text, lineCode(text));
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

/** Closers at the start of the line, and the line's net change in open brackets. */
function bracketBalance(text: string, code: LineCode): { leadingClosers: number; net: number } {
  let net = 0;
  let leadingClosers = 0;
  let seenOpener = false;
  for (const index of code.brackets) {
    const c = text[index];
    if (c === "{" || c === "[" || c === "(") {
      net++;
      seenOpener = true;
    } else {
      net--;
      if (!seenOpener && (code.firstOther === -1 || index < code.firstOther)) leadingClosers++;
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
