/**
 * isInertValue (src/terraform/format-hcl.ts) tries one pattern before its character scans: the pattern
 * may only say yes where the scans say yes, so both say the same of every value.
 */
import { isInertValue, isInertValueByScan } from "../src/terraform/format-hcl";
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

test("GIVEN 5,000 random values THEN isInertValue says what its scans say", () => {
  const random = seeded(74);
  const differing: string[] = [];
  let inert = 0;
  for (let n = 0; n < 5000; n++) {
    // Half of them quoted, so that string literals (the pattern's first branch) are common
    const body = randomText(random, PIECES, 8);
    const value = random(2) === 0 ? `"${body}"` : body;
    const scanned = isInertValueByScan(value);
    if (isInertValue(value) !== scanned) differing.push(value);
    if (scanned) inert++;
  }
  expect(differing).toEqual([]);
  expect(inert).toBeGreaterThan(500); // the values reach the pattern's side too
});

test("GIVEN the values a synth writes THEN strings and references are inert, the rest as scanned", () => {
  expect(isInertValue('"arn:aws:iam::123456789012:role/deploy"')).toBe(true);
  expect(isInertValue("aws_iam_role.deploy.arn")).toBe(true);
  expect(isInertValue('"${var.x}"')).toBe(isInertValueByScan('"${var.x}"'));
  expect(isInertValue('["a", "b"]')).toBe(isInertValueByScan('["a", "b"]'));
  expect(isInertValue(' "padded"')).toBe(false);
  expect(isInertValue("")).toBe(false);
});
