/**
 * The character rules of src/config/validators.ts check a whole string in one match before they scan
 * it character by character: they must say exactly what the scan alone says, for every string, and
 * count characters as IAM does (code points).
 */
import { descriptionProblem, tagKeyProblem, tagValueProblem } from "../src/config/validators";

/** The scan alone, as the rules were written before the one-match check. */
const scan = (value: string, allowed: RegExp) => [...value].find((char) => !allowed.test(char));
const DESCRIPTION = /^[\t\n\r\x20-\x7e\xa1-\xff]$/;
const TAG = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]$/u;

/** Strings from pieces that sit on every edge of the classes: surrogate pairs, lone halves, controls. */
const PIECES = [
  "a",
  "Z",
  "0",
  " ",
  "\t",
  "\n",
  "\r",
  "\u0000",
  "\u001f",
  "\u007f",
  "\u00a0",
  "\u00a1",
  "\u00ff",
  "\u0100",
  "é",
  "日",
  "_",
  ".",
  ":",
  "/",
  "=",
  "+",
  "-",
  "@",
  "#",
  "$",
  "{",
  "\u200b",
  "\u2028",
  "😀",
  "\ud83d",
  "\ude00",
  "\u{1d400}",
  "٣",
];

function* strings(seed: number, count: number): Generator<string> {
  let state = seed;
  const next = () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0);
  for (let i = 0; i < count; i++) {
    let value = "";
    for (let n = next() % 8; n > 0; n--) value += PIECES[next() % PIECES.length];
    yield value;
  }
}

test("GIVEN strings of every kind of character THEN the rules name the first character the scan finds", () => {
  let seenBad = 0;
  // One assertion over all of them (an expect per string was most of the test's time).
  const differing: {
    value: string;
    rule: string;
    problem: string | undefined;
    scanned: string | undefined;
  }[] = [];
  for (const value of strings(7, 4000)) {
    // WHEN each rule judges the string THEN its verdict is the scan's, naming the same character
    const description = scan(value, DESCRIPTION);
    const tag = scan(value, TAG);
    if (description !== undefined) seenBad++;
    const descriptionSays = descriptionProblem(value);
    // The same verdict, and a refusal names the character the scan found first
    const named =
      description === undefined ||
      descriptionSays?.includes(description.codePointAt(0)!.toString(16).toUpperCase());
    if ((descriptionSays !== undefined) !== (description !== undefined) || !named) {
      differing.push({ value, rule: "description", problem: descriptionSays, scanned: description });
    }
    const tagValueSays = tagValueProblem(value);
    if ((tagValueSays !== undefined) !== (tag !== undefined)) {
      differing.push({ value, rule: "tag value", problem: tagValueSays, scanned: tag });
    }
    if (value !== "" && !value.toLowerCase().startsWith("aws:")) {
      const tagKeySays = tagKeyProblem(value);
      if ((tagKeySays !== undefined) !== (tag !== undefined || [...value].length > 128)) {
        differing.push({ value, rule: "tag key", problem: tagKeySays, scanned: tag });
      }
    }
  }
  expect(differing).toEqual([]);
  expect(seenBad).toBeGreaterThan(1000); // the strings reach the refusing side too
});

test("GIVEN each ASCII character in a tag THEN the verdict is IAM's Unicode class's", () => {
  // The tag rules try an ASCII-only pattern before the Unicode class: it may only let through what the
  // class allows, and everything else still goes to the class.
  const differing: string[] = [];
  for (let code = 0; code < 128; code++) {
    const char = String.fromCharCode(code);
    const allowed = TAG.test(char);
    if ((tagValueProblem(`a${char}b`) === undefined) !== allowed) differing.push(`value ${codeOf(code)}`);
    if ((tagKeyProblem(`k${char}`) === undefined) !== allowed) differing.push(`key ${codeOf(code)}`);
  }
  expect(differing).toEqual([]);
});

const codeOf = (code: number) => `U+${code.toString(16).padStart(4, "0")}`;

test("GIVEN characters beyond the BMP THEN lengths count code points, as IAM does", () => {
  expect(descriptionProblem("é".repeat(1000))).toBeUndefined();
  expect(descriptionProblem("é".repeat(1001))).toMatch(/at most 1000 characters \(IAM\), got 1001/);
  expect(tagValueProblem("😀")).toMatch(/contains U\+1F600/);
  expect(tagKeyProblem("日".repeat(128))).toBeUndefined();
  expect(tagKeyProblem("𝐀".repeat(128))).toBeUndefined(); // 128 code points, 256 UTF-16 units
  expect(tagKeyProblem("𝐀".repeat(129))).toMatch(/1–128 characters \(IAM\), got 129/);
});
