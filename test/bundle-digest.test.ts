/**
 * The bundle's digest in the tool fingerprint (src/runtime/bundle-digest.ts): the build's record while the
 * bundle is the file the build wrote, else the bytes' own SHA-256, so a changed bundle is never taken for
 * the one that was recorded.
 */
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bundleDigest, bundleDigestFile } from "../src/runtime/bundle-digest";

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

let dir: string;
let bundle: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "gitlab-oidc-digest-"));
  bundle = join(dir, "main.js");
  writeFileSync(bundle, "console.log(1);\n");
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** The build's record of the bundle as it is now, claiming `digest`. */
function record(digest: string): void {
  const { size, mtimeMs } = statSync(bundle);
  writeFileSync(bundleDigestFile(bundle), JSON.stringify({ sha256: digest, size, mtimeMs }));
}

test("GIVEN a record of the bundle as it is WHEN its digest is asked THEN it is the record's", () => {
  // A digest no bytes have, to tell the record's from a hash of the file
  record("a".repeat(64));
  expect(bundleDigestFile(bundle)).toBe(join(dir, "main.digest.json"));
  expect(bundleDigest(bundle)).toBe("a".repeat(64));
});

test("GIVEN the bundle rewritten after the record WHEN its digest is asked THEN the bytes are hashed", () => {
  record("a".repeat(64));
  // Same size, another modification time
  writeFileSync(bundle, "console.log(2);\n");
  utimesSync(bundle, new Date(), new Date(Date.now() + 5_000));
  expect(bundleDigest(bundle)).toBe(sha256("console.log(2);\n"));
  // AND the bytes the launcher read, when given, are what is hashed
  expect(bundleDigest(bundle, Buffer.from("launched"))).toBe(sha256("launched"));
});

test.each([
  ["no record", null],
  ["a damaged record", "{"],
  ["a record of another shape", JSON.stringify({ sha256: "not hex", size: 16, mtimeMs: 1 })],
])("GIVEN %s WHEN the digest is asked THEN the bytes are hashed", (_, text) => {
  if (text !== null) writeFileSync(bundleDigestFile(bundle), text);
  expect(bundleDigest(bundle)).toBe(sha256("console.log(1);\n"));
});
