/**
 * The formatter's scans take shortcuts on a cold start (src/terraform/format-hcl.ts): isInertValue tries
 * one pattern before its character scans (it may only say yes where they do), and a line's balance jumps
 * over string contents. Both are held here to the scans as first written.
 */
import { balanceOf, isInertValue, isInertValueByScan } from "../src/terraform/format-hcl";
import { randomText, seeded } from "./support/seeded";

const PIECES = [
  '"',
  "a",
  "Z_9",
  ".",
  "-",
  " ",
  "\\",
  '"',
  "$",
  "%",
  "{",
  "}",
  "[",
  "]",
  "(",
  ")",
  "=",
  "\n",
  "\u2028",
  "é",
  "arn:aws:iam::1:role/x",
];

test("GIVEN 2,500 random values THEN isInertValue says what its scans say", () => {
  const random = seeded(74);
  const differing: string[] = [];
  let inert = 0;
  for (let n = 0; n < 2500; n++) {
    // Half of them quoted, so that string literals (the pattern's first branch) are common
    const body = randomText(random, PIECES, 8);
    const value = random(2) === 0 ? `"${body}"` : body;
    const scanned = isInertValueByScan(value);
    if (isInertValue(value) !== scanned) differing.push(value);
    if (scanned) inert++;
  }
  expect(differing).toEqual([]);
  expect(inert).toBeGreaterThan(250); // the values reach the pattern's side too
});

test("GIVEN the values a synth writes THEN strings and references are inert, the rest as scanned", () => {
  expect(isInertValue('"arn:aws:iam::123456789012:role/deploy"')).toBe(true);
  expect(isInertValue("aws_iam_role.deploy.arn")).toBe(true);
  expect(isInertValue('"${var.x}"')).toBe(isInertValueByScan('"${var.x}"'));
  expect(isInertValue('["a", "b"]')).toBe(isInertValueByScan('["a", "b"]'));
  expect(isInertValue(' "padded"')).toBe(false);
  expect(isInertValue("")).toBe(false);
});

/** `balance` as first written, character by character: the reference for the one that jumps. */
function balanceByCharacter(text: string): { leadingClosers: number; net: number } {
  let leadingClosers = 0;
  let net = 0;
  let leading = true;
  let inString = false;
  let interpolationDepth = 0;
  let openInterpolations = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
      else if ((c === "$" || c === "%") && text[i + 1] === "{") {
        if (text[i - 1] === c) continue;
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
    if ("{[(".includes(c!)) {
      net++;
      leading = false;
    } else if ("}])".includes(c!)) {
      net--;
      if (leading) leadingClosers++;
    } else if (c !== " ") {
      leading = false;
    }
  }
  return { leadingClosers, net };
}

test("GIVEN 2,500 random lines THEN the line balance formatHcl uses is the character-by-character one", () => {
  const random = seeded(19);
  const pieces = ['"', "${", "%{", "$${", "\\", "{", "}", "[", "]", "(", ")", " ", "a", "= ", "$", "%"];
  const differing: string[] = [];
  for (let n = 0; n < 2500; n++) {
    const line = randomText(random, pieces, 12);
    if (JSON.stringify(balanceOf(line)) !== JSON.stringify(balanceByCharacter(line))) differing.push(line);
  }
  expect(differing).toEqual([]);
});
