/**
 * Splitting a config's text into the items of its top-level `accounts:` block sequence, so that the
 * fast reader can parse only the items whose bytes changed (src/config/parse-cache.ts, issue 25).
 *
 * Why an item's bytes parse alike alone and in the document: the texts this is used on have no anchors,
 * aliases, merge keys, tags' directives or document markers, so nothing in an item refers to anything
 * outside it. YAML is read left to right, so an item's parse depends on what precedes it only through
 * the reader's state at its first line, which is the same for every item (the start of an entry of a
 * block sequence at indentation n, the value of the column-0 key `accounts`: checked by the sentinel
 * below), and on what follows it only through a construct still open at its end. A quoted scalar or a
 * flow collection still open at the end of an item alone is an error there (which means a full read);
 * a block or plain scalar ends at a line indented n or less, and every item ends where the next line at
 * indentation n starts with `-`. Anything this module is not sure about returns undefined: the caller
 * reads the whole text, as before.
 */
import { randomHex } from "../runtime/random-hex";

/** A text split around the items of its top-level `accounts:` sequence. */
export interface AccountChunks {
  /** The text before the first item (through the `accounts:` line and any comments after it). */
  readonly head: string;
  /** Each item's text: from its `-` line up to the next item's (comments and blank lines included). */
  readonly items: readonly string[];
  /** The text after the last item, from the first line back at column 0 (may be ""). */
  readonly tail: string;
  /**
   * head, one sentinel item at the items' indentation, tail: the reader must find exactly that item
   * as the value of `accounts` (holdsSentinel), which proves the items stand where `accounts:`'s value
   * does (not inside a quoted scalar or a flow collection that spans them, say).
   */
  readonly outside: string;
  /** The sentinel's value in `outside` (random per split, so no text can spell it in advance). */
  readonly sentinel: string;
}

/**
 * What a split does not handle: a tab (indentation), a carriage return or a byte-order mark (line
 * ends and starts), a directive (`%`) or a document marker (`---`, `...`) at the start of a line.
 * Searched for by `includes` (plainer than one multiline regular expression, and no slower: ~2 ms
 * over 3.6 MB).
 */
function unsplittable(text: string): boolean {
  return (
    ["\t", "\r", "\uFEFF", "\n%", "\n---", "\n..."].some((mark) => text.includes(mark)) ||
    ["%", "---", "..."].some((mark) => text.startsWith(mark))
  );
}

/** The `accounts:` key with nothing after it but spaces and a comment. */
const ACCOUNTS_KEY = /^accounts: *(?: #.*)?$/;

/**
 * The items of the column-0 `accounts:` block sequence of `text`, or undefined when the text is not
 * split exactly that way (flow style, no items, a second line at column 0 that mentions accounts,
 * odd indentation, tabs, markers: see unsplittable).
 */
export function splitAccounts(text: string): AccountChunks | undefined {
  if (unsplittable(text)) return undefined;
  const length = text.length;
  let keyLine = -1; // where the `accounts:` line starts
  let headEnd = -1; // where the first item starts
  let tailStart = -1; // where the text after the items starts
  let indent = -1; // the items' indentation
  const starts: number[] = [];
  let deeper: RegExp | undefined; // the next line not indented deeper than the items
  for (let start = 0; start < length; ) {
    const newline = text.indexOf("\n", start);
    const end = newline === -1 ? length : newline;
    const next = newline === -1 ? length : newline + 1;
    let spaces = 0;
    while (start + spaces < end && text.charCodeAt(start + spaces) === 0x20) spaces++;
    const first = start + spaces < end ? text.charCodeAt(start + spaces) : -1;
    const content = first !== -1 && first !== 0x23; // not blank, not a comment
    const dash =
      first === 0x2d && (start + spaces + 1 === end || text.charCodeAt(start + spaces + 1) === 0x20);
    if (!content) {
      // blank or comment: belongs to whatever part it stands in
    } else if (keyLine === -1 || tailStart !== -1) {
      // Before or after the items: a column-0 line naming accounts again (a second key, a quoted or
      // flow-style one, a continuation of a scalar) is more than this split may judge.
      if (spaces === 0 && text.slice(start, end).includes("accounts")) {
        if (keyLine !== -1 || !ACCOUNTS_KEY.test(text.slice(start, end))) return undefined;
        keyLine = start;
      }
    } else if (indent === -1) {
      // The first line after `accounts:`: the first item, at the sequence's indentation.
      if (!dash) return undefined;
      indent = spaces;
      headEnd = start;
      starts.push(start);
    } else if (spaces === indent && dash) {
      starts.push(start);
    } else if (spaces === 0) {
      tailStart = start; // back at column 0: the next top-level key
    } else if (spaces <= indent) {
      return undefined; // a line between column 0 and the items' indentation: odd
    }
    start = next;
    if (indent !== -1 && tailStart === -1 && start < length) {
      // Inside the items, a line indented deeper than the dashes is the current item's, whatever it
      // holds: skip to the next line that is not (most of a 3.6 MB text; ~4× faster than line by line).
      deeper ??= new RegExp(`\\n(?! {${indent + 1}})`, "g");
      deeper.lastIndex = start - 1;
      const found = deeper.exec(text);
      start = found ? found.index + 1 : length;
    }
  }
  if (starts.length === 0) return undefined;
  if (tailStart === -1) tailStart = length;
  const items = starts.map((start, i) => text.slice(start, starts[i + 1] ?? tailStart));
  const head = text.slice(0, headEnd);
  const tail = text.slice(tailStart);
  const sentinel = `split-${randomHex(12)}`;
  const outside = `${head}${" ".repeat(indent)}- ${sentinel}\n${tail}`;
  return { head, items, tail, outside, sentinel };
}

/**
 * Whether the parsed `outside` text (AccountChunks.outside) is a plain map whose `accounts` is exactly
 * the sentinel item: then the items stand where that item does, as the value of the root's `accounts`.
 */
export function holdsSentinel(outside: unknown, sentinel: string): outside is Record<string, unknown> {
  if (typeof outside !== "object" || outside === null || Array.isArray(outside)) return false;
  if (Object.getPrototypeOf(outside) !== Object.prototype) return false;
  const accounts = (outside as Record<string, unknown>).accounts;
  return (
    Object.hasOwn(outside, "accounts") &&
    Array.isArray(accounts) &&
    accounts.length === 1 &&
    accounts[0] === sentinel
  );
}
