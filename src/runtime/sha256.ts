/**
 * SHA-256 without loading `node:crypto` for small inputs. Loading that module (and Node's streams, which
 * it loads) took 3–6 ms of every start-up on Node 22 and 24, ~7% of the main job on the example, which
 * hashes ~40 KB (docs/performance.md). Small inputs go through a WebAssembly compression function
 * (./sha256-module.ts); an input past NATIVE_FROM bytes, every input once the process has hashed
 * NATIVE_AFTER bytes this way, and every input where WebAssembly is off (`node --jitless`) go to
 * `node:crypto`, which is faster on megabytes. Both compute the same SHA-256 (FIPS
 * 180-4): test/sha256.test.ts holds this one to `node:crypto` and to the standard's test vectors. The
 * module itself is made by ./sha256-module.ts and kept as bytes in ./sha256-module-bytes.ts.
 */
import type { Hash } from "node:crypto";
import { H_AT, INPUT_AT } from "./sha256-module";
import { SHA256_MODULE_BASE64 } from "./sha256-module-bytes";

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

/** Whether this process runs WebAssembly: `node --jitless` turns it off (`WebAssembly` is then undefined). */
const WASM = typeof WebAssembly === "object";

/** A new SHA-256. */
export function createSha256(): Sha256 {
  return WASM && hashedInWasm < NATIVE_AFTER ? new SmallInputSha256() : nativeSha256();
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

// --- The WebAssembly part: `blocks(at, count)` (./sha256-module.ts) compresses whole blocks; the
// buffering and the padding are here.

/** The input area: the rest of the module's one 64 KiB page, a whole number of blocks. */
const INPUT_BYTES = 65536 - INPUT_AT;

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
  const bytes = Buffer.from(SHA256_MODULE_BASE64, "base64");
  const module = new WebAssembly.Module(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length));
  const exports = new WebAssembly.Instance(module).exports as {
    memory: WebAssembly.Memory;
    blocks: (at: number, count: number) => void;
  };
  compressor = {
    memory: new Uint8Array(exports.memory.buffer),
    view: new DataView(exports.memory.buffer),
    blocks: exports.blocks,
  };
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
