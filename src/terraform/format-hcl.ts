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
  /** Width of the attribute name before ` = `, for one-line attributes that take part in alignment. */
  readonly keyWidth?: number;
}

export function formatHcl(raw: string): string {
  const lines: Line[] = [];
  let depth = 0;
  for (const rawLine of raw.split("\n")) {
    const text = spaceOneLineBraces(rawLine.trim());
    const { leadingClosers, net } = bracketBalance(text);
    const lineDepth = Math.max(0, depth - leadingClosers);
    depth = Math.max(0, depth + net);
    const key = net === 0 ? attributeKey(text) : undefined;
    lines.push({ text, depth: lineDepth, ...(key !== undefined ? { keyWidth: key.length } : {}) });
  }

  const out: string[] = [];
  for (let i = 0; i < lines.length; ) {
    // A run of one-line attributes at one depth shares the column of its `=`.
    let end = i;
    while (end < lines.length && lines[end].keyWidth !== undefined && lines[end].depth === lines[i].depth) end++;
    if (end > i) {
      const width = Math.max(...lines.slice(i, end).map((line) => line.keyWidth!));
      for (const line of lines.slice(i, end)) {
        const key = line.text.slice(0, line.keyWidth);
        const value = line.text.slice(line.keyWidth).replace(/^\s*=\s*/, "");
        out.push(`${"  ".repeat(line.depth)}${key.padEnd(width)} = ${value}`);
      }
      i = end;
    } else {
      const line = lines[i++];
      out.push(line.text === "" ? "" : `${"  ".repeat(line.depth)}${line.text}`);
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

/** Closers at the start of the line, and the line's net change in open brackets. */
function bracketBalance(text: string): { leadingClosers: number; net: number } {
  let net = 0;
  let leadingClosers = 0;
  let seenOther = false;
  forEachCodeChar(text, (c) => {
    if ("{[(".includes(c)) {
      net++;
      seenOther = true;
    } else if ("}])".includes(c)) {
      net--;
      if (!seenOther) leadingClosers++;
    } else if (c !== " ") {
      seenOther = true;
    }
  });
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
