/**
 * src/runtime/sha256.ts computes SHA-256 in WebAssembly for small inputs and with node:crypto for large
 * ones: both must be SHA-256, byte for byte, on every length around the block and padding edges, on
 * strings (UTF-8) and bytes, in pieces or whole.
 */
import { createHash } from "node:crypto";
import { createSha256, NATIVE_FROM, sha256Hex } from "../src/runtime/sha256";
import { INPUT_AT, sha256CompressionModule } from "../src/runtime/sha256-module";
import { SHA256_MODULE_BASE64 } from "../src/runtime/sha256-module-bytes";
import { seeded } from "./support/seeded";

const reference = (data: string | Uint8Array) => createHash("sha256").update(data).digest("hex");

test("GIVEN the module's generator THEN the bytes a run decodes are its output", () => {
  // When this fails, ./src/runtime/sha256-module.ts changed: run `node scripts/sha256-module.mjs`.
  expect(SHA256_MODULE_BASE64).toBe(Buffer.from(sha256CompressionModule()).toString("base64"));
  expect(INPUT_AT % 64).toBe(0);
});

test("GIVEN FIPS 180-4's examples THEN the digests are the standard's", () => {
  expect(sha256Hex("")).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  expect(sha256Hex("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  expect(sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")).toBe(
    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
  );
});

test("GIVEN every length from 0 to 300 bytes, in pieces, THEN the digest is node:crypto's", () => {
  const random = seeded(180);
  const differing: number[] = [];
  for (let length = 0; length <= 300; length++) {
    const bytes = Uint8Array.from({ length }, () => random(256));
    // In random pieces, some of them empty
    const hash = createSha256();
    for (let from = 0; from < length || from === 0; ) {
      const take = Math.min(length - from, random(70));
      hash.update(bytes.subarray(from, from + take));
      from += take;
      if (length === 0) break;
    }
    if (hash.digest("hex") !== reference(bytes)) differing.push(length);
  }
  expect(differing).toEqual([]);
});

test("GIVEN inputs across the WebAssembly page and the switch to node:crypto THEN the digest is node:crypto's", () => {
  // One pseudo-random buffer (an LCG: seeded() per byte is slow at this size), cut to each size
  const all = new Uint8Array(NATIVE_FROM + 1);
  for (let i = 0, state = 4; i < all.length; i++)
    all[i] = (state = (Math.imul(state, 1103515245) + 12345) >>> 0) >>> 24;
  const page = 65536 - INPUT_AT; // the module's input area
  const sizes = [
    page - 1,
    page,
    page + 1,
    page * 2 + 55,
    page * 3 + 56,
    NATIVE_FROM,
    NATIVE_FROM + 1,
    600_000,
  ];
  for (const size of sizes) {
    const bytes = all.subarray(0, size);
    // Whole, and in two pieces across the switch
    expect({ size, whole: sha256Hex(bytes) }).toEqual({ size, whole: reference(bytes) });
    const cut = Math.floor(size / 3);
    const pieces = createSha256().update(bytes.subarray(0, cut)).update(bytes.subarray(cut)).digest("hex");
    expect({ size, pieces }).toEqual({ size, pieces: reference(bytes) });
  }
});

test("GIVEN strings, a reused buffer and a raw digest THEN each is as with node:crypto", () => {
  // Strings are UTF-8, as node:crypto reads them
  for (const text of ["é", "😀 \u0000 \uD800", "a".repeat(1000), "gitlab-oidc-aws synth cache 2\0v22"]) {
    expect(sha256Hex(text)).toBe(reference(text));
  }
  // A buffer changed after update() does not change the digest
  const buffer = Buffer.from("first");
  const hash = createSha256().update(buffer);
  buffer.write("other");
  expect(hash.digest("hex")).toBe(reference("first"));
  // digest() without an encoding is the 32 bytes
  expect(createSha256().update("abc").digest()).toEqual(createHash("sha256").update("abc").digest());
});

test("GIVEN a process without WebAssembly (node --jitless) THEN node:crypto computes every digest", () => {
  const wasm = globalThis.WebAssembly;
  // GIVEN the module loaded where WebAssembly is undefined, as under --jitless
  Reflect.deleteProperty(globalThis, "WebAssembly");
  try {
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const fresh = require("../src/runtime/sha256") as typeof import("../src/runtime/sha256");
      // WHEN digests are asked for THEN they are SHA-256's
      expect(fresh.sha256Hex("abc")).toBe(reference("abc"));
      expect(fresh.createSha256().update("a").update(Buffer.from("bc")).digest("hex")).toBe(reference("abc"));
    });
  } finally {
    globalThis.WebAssembly = wasm;
  }
});
