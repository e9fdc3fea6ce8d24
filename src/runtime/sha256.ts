/**
 * SHA-256 without loading `node:crypto` for small inputs. Loading that module (and Node's streams, which
 * it loads) took 3–6 ms of every start-up on Node 22 and 24, ~7% of the main job on the example, which
 * hashes ~40 KB (docs/performance.md). Small inputs go through a WebAssembly compression function built
 * here; an input past NATIVE_FROM bytes, and every input once the process has hashed NATIVE_AFTER bytes
 * this way, goes to `node:crypto`, which is faster on megabytes. Both compute the same SHA-256 (FIPS
 * 180-4): test/sha256.test.ts holds this one to `node:crypto` and to the standard's test vectors.
 */
import type { Hash } from "node:crypto";

/** One input larger than this goes to node:crypto. */
export const NATIVE_FROM = 256 * 1024;
/** After this many bytes hashed in WebAssembly, everything goes to node:crypto. */
export const NATIVE_AFTER = 1024 * 1024;

/** A running SHA-256, as node:crypto's `createHash("sha256")` is used here. */
export interface Sha256 {
  /** Adds `data` (a string as UTF-8). */
  update(data: string | Uint8Array): Sha256;
  /** The digest as 32 bytes, or as lowercase hex. */
  digest(): Buffer;
  digest(encoding: "hex"): string;
}

/** A new SHA-256. */
export function createSha256(): Sha256 {
  return hashedInWasm < NATIVE_AFTER ? new SmallInputSha256() : nativeSha256();
}

/** SHA-256 of `data` (a string as UTF-8), in hex. */
export function sha256Hex(data: string | Uint8Array): string {
  return createSha256().update(data).digest("hex");
}

let hashedInWasm = 0;

function nativeSha256(): Hash {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only when needed (above)
  return (require("node:crypto") as typeof import("node:crypto")).createHash("sha256");
}

/** Keeps its input until the digest, unless it grows past NATIVE_FROM: then node:crypto takes over. */
class SmallInputSha256 implements Sha256 {
  private chunks: Uint8Array[] = [];
  private length = 0;
  private native: Hash | undefined;

  update(data: string | Uint8Array): Sha256 {
    if (this.native) {
      this.native.update(data);
      return this;
    }
    // A copy, as node:crypto takes the bytes at once: the caller may reuse its buffer.
    const bytes =
      typeof data === "string" ? Buffer.from(data, "utf8") : Uint8Array.prototype.slice.call(data);
    this.chunks.push(bytes);
    this.length += bytes.length;
    if (this.length > NATIVE_FROM) {
      this.native = nativeSha256();
      for (const chunk of this.chunks) this.native.update(chunk);
      this.chunks = [];
    }
    return this;
  }

  digest(): Buffer;
  digest(encoding: "hex"): string;
  digest(encoding?: "hex"): Buffer | string {
    const digest = this.native ? this.native.digest() : wasmSha256(this.chunks, this.length);
    return encoding === "hex" ? digest.toString("hex") : digest;
  }
}

// --- The WebAssembly part: one function, `blocks(at, count)`, runs SHA-256's compression function over
// `count` 64-byte blocks at `at`, on the state in memory; the padding and the buffering are below.

/** Memory layout (bytes): the round constants, the state, the message schedule, then input blocks. */
const K_AT = 0;
const H_AT = 256;
const W_AT = 512;
const INPUT_AT = 1024;
/** Whole blocks that fit in the input area of the module's one 64 KiB page. */
const INPUT_BYTES = 65536 - INPUT_AT;

/** SHA-256's round constants (FIPS 180-4, 4.2.2). */
const K = [
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
  0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
  0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
  0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
  0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
  0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
  0xc67178f2,
];
/** SHA-256's initial state (FIPS 180-4, 5.3.3). */
const IV = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

interface Compressor {
  readonly memory: Uint8Array;
  readonly view: DataView;
  readonly blocks: (at: number, count: number) => void;
}

let compressor: Compressor | undefined;

function wasmCompressor(): Compressor {
  if (compressor) return compressor;
  const instance = new WebAssembly.Instance(new WebAssembly.Module(compressionModule()));
  const exports = instance.exports as {
    memory: WebAssembly.Memory;
    blocks: (at: number, count: number) => void;
  };
  const memory = new Uint8Array(exports.memory.buffer);
  const view = new DataView(exports.memory.buffer);
  K.forEach((k, i) => view.setUint32(K_AT + 4 * i, k, true));
  compressor = { memory, view, blocks: exports.blocks };
  return compressor;
}

/** SHA-256 of the concatenated `chunks` (`length` bytes in all), computed in WebAssembly. */
function wasmSha256(chunks: readonly Uint8Array[], length: number): Buffer {
  const { memory, view, blocks } = wasmCompressor();
  hashedInWasm += length;
  IV.forEach((h, i) => view.setUint32(H_AT + 4 * i, h, true));
  // Input is copied into the page's input area and compressed a full area (or the last blocks) at a time.
  let filled = 0;
  const flush = (count: number) => {
    blocks(INPUT_AT, count);
    filled = 0;
  };
  for (const chunk of chunks) {
    for (let from = 0; from < chunk.length; ) {
      const take = Math.min(chunk.length - from, INPUT_BYTES - filled);
      memory.set(chunk.subarray(from, from + take), INPUT_AT + filled);
      filled += take;
      from += take;
      if (filled === INPUT_BYTES) flush(INPUT_BYTES / 64);
    }
  }
  // Padding (FIPS 180-4, 5.1.1): 0x80, zeros to 56 bytes mod 64, then the length in bits, big-endian.
  const whole = filled - (filled % 64);
  if (whole > 0) {
    blocks(INPUT_AT, whole / 64);
    memory.copyWithin(INPUT_AT, INPUT_AT + whole, INPUT_AT + filled);
  }
  const rest = filled - whole;
  const tail = rest < 56 ? 64 : 128;
  memory.fill(0, INPUT_AT + rest, INPUT_AT + tail);
  memory[INPUT_AT + rest] = 0x80;
  view.setUint32(INPUT_AT + tail - 8, Math.floor(length / 0x20000000), false);
  view.setUint32(INPUT_AT + tail - 4, (length % 0x20000000) * 8, false);
  blocks(INPUT_AT, tail / 64);
  const digest = Buffer.alloc(32);
  for (let i = 0; i < 8; i++) digest.writeUInt32BE(view.getUint32(H_AT + 4 * i, true), 4 * i);
  return digest;
}

/**
 * The module's bytes: one memory page and `blocks(at, count)`. The state and the schedule are kept in
 * memory as little-endian words (WebAssembly's order); input words are read big-endian, as SHA-256 reads
 * them.
 */
function compressionModule(): Uint8Array<ArrayBuffer> {
  // Locals: the two parameters, the working variables a–h, the byte offset t, and two temporaries.
  const [at, count, a, b, c, d, e, f, g, h, t, x, t1] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
  type Code = number[];
  const get = (local: number): Code => [0x20, local];
  const set = (local: number): Code => [0x21, local];
  const tee = (local: number): Code => [0x22, local];
  const i32 = (value: number): Code => [0x41, ...sleb(value | 0)];
  const load = (offset: number): Code => [0x28, 2, ...uleb(offset)];
  const store = (offset: number): Code => [0x36, 2, ...uleb(offset)];
  // prettier-ignore
  const [add, sub, and, or, xor, shrU, rotr, ne, eqz] = [0x6a, 0x6b, 0x71, 0x72, 0x73, 0x76, 0x78, 0x47, 0x45];
  const [block, loop, br, brIf, end, empty] = [0x02, 0x03, 0x0c, 0x0d, 0x0b, 0x40];
  /** rotr(v, r1) ^ rotr(v, r2) ^ (shift ? v >>> r3 : rotr(v, r3)), v the value of `local`. */
  // prettier-ignore
  const sigma = (local: number, r1: number, r2: number, r3: number, shift: boolean): Code => [
    ...get(local), ...i32(r1), rotr, ...get(local), ...i32(r2), rotr, xor,
    ...get(local), ...i32(r3), shift ? shrU : rotr, xor,
  ];
  /** W[n] for the byte offset t - back (n = t/4 - back/4). */
  const wBack = (back: number): Code => [...get(t), ...i32(back), sub, ...load(W_AT)];
  /** `body` for each byte offset t from `from` (inclusive) to `to` (exclusive), in steps of 4. */
  // prettier-ignore
  const forT = (from: number, to: number, body: Code): Code => [
    ...i32(from), ...set(t),
    loop, empty, ...body, ...get(t), ...i32(4), add, ...tee(t), ...i32(to), ne, brIf, 0, end,
  ];
  const state = [a, b, c, d, e, f, g, h];

  // prettier-ignore
  const code: Code = [
    block, empty, // the blocks are done
    loop, empty, // one block per turn
    ...get(count), eqz, brIf, 1,
    // W[0..15]: the block's words, big-endian: (rotr(v, 8) & 0xff00ff00) | (rotr(v, 24) & 0x00ff00ff)
    ...forT(0, 64, [
      ...get(t),
      ...get(at), ...get(t), add, ...load(0), ...tee(x), ...i32(8), rotr, ...i32(0xff00ff00), and,
      ...get(x), ...i32(24), rotr, ...i32(0x00ff00ff), and, or,
      ...store(W_AT),
    ]),
    // W[16..63] = σ1(W[t-2]) + W[t-7] + σ0(W[t-15]) + W[t-16]
    ...forT(64, 256, [
      ...get(t),
      ...wBack(8), ...set(x), ...sigma(x, 17, 19, 10, true),
      ...wBack(28), add,
      ...wBack(60), ...set(x), ...sigma(x, 7, 18, 3, true), add,
      ...wBack(64), add,
      ...store(W_AT),
    ]),
    ...state.flatMap((local, i) => [...i32(0), ...load(H_AT + 4 * i), ...set(local)]),
    ...forT(0, 256, [
      // T1 = h + Σ1(e) + Ch(e, f, g) + K[t] + W[t], with Ch(e, f, g) = g ^ (e & (f ^ g))
      ...get(h), ...sigma(e, 6, 11, 25, false), add,
      ...get(g), ...get(e), ...get(f), ...get(g), xor, and, xor, add,
      ...get(t), ...load(K_AT), add, ...get(t), ...load(W_AT), add, ...set(t1),
      // h = g, g = f, f = e, e = d + T1, d = c, c = b, b = a
      ...get(g), ...set(h), ...get(f), ...set(g), ...get(e), ...set(f),
      ...get(d), ...get(t1), add, ...set(e),
      ...get(c), ...set(d), ...get(b), ...set(c), ...get(a), ...set(b),
      // a = T1 + Σ0(old a) + Maj(old a, b, c), which are now in b, c and d: Maj = (a & b) | (c & (a | b))
      ...get(t1), ...sigma(b, 2, 13, 22, false), add,
      ...get(b), ...get(c), and, ...get(d), ...get(b), ...get(c), or, and, or, add, ...set(a),
    ]),
    // H[i] += the working variables
    ...state.flatMap((local, i) => [
      ...i32(0), ...i32(0), ...load(H_AT + 4 * i), ...get(local), add, ...store(H_AT + 4 * i),
    ]),
    ...get(at), ...i32(64), add, ...set(at),
    ...get(count), ...i32(1), sub, ...set(count),
    br, 0, // the next block
    end, end, end, // loop, block, function
  ];

  const body = [1, 11, 0x7f, ...code]; // one group of 11 i32 locals
  const section = (id: number, content: number[]) => [id, ...uleb(content.length), ...content];
  const name = (text: string) => [...uleb(text.length), ...Buffer.from(text)];
  return Uint8Array.from([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, [1, 0x60, 2, 0x7f, 0x7f, 0]), // type 0: (i32, i32) -> ()
    ...section(3, [1, 0]), // function 0 has type 0
    ...section(5, [1, 0, 1]), // one memory, at least one page
    ...section(7, [2, ...name("memory"), 2, 0, ...name("blocks"), 0, 0]),
    ...section(10, [1, ...uleb(body.length), ...body]),
  ]);
}

/** Unsigned LEB128. */
function uleb(value: number): number[] {
  const out: number[] = [];
  do {
    let byte = value & 0x7f;
    value >>>= 7;
    if (value !== 0) byte |= 0x80;
    out.push(byte);
  } while (value !== 0);
  return out;
}

/** Signed LEB128 of a 32-bit integer. */
function sleb(value: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = value & 0x7f;
    value >>= 7;
    if ((value === 0 && (byte & 0x40) === 0) || (value === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}
