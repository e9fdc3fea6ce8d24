/**
 * The WebAssembly module of ./sha256.ts, made here: `blocks(at, count)` runs SHA-256's compression
 * function (FIPS 180-4, 6.2.2) over `count` 64-byte blocks at `at`, on the state (eight little-endian
 * words) at H_AT, with the round constants at K_AT (a data segment) and the message schedule at W_AT.
 * Its rounds are a loop: with the 64 rounds written out, the module was 8 KB instead of 1 KB and a run
 * of the example took 1.5–4 ms longer (WebAssembly's baseline compiler, which is what runs in a short
 * process, compiled more and ran no faster).
 *
 * ./sha256-module-bytes.ts holds its output, so a run does not build it: test/sha256.test.ts fails when
 * they differ, and `node scripts/sha256-module.mjs` writes the file again.
 */

/** Memory layout (bytes): the round constants, the state, the message schedule, then input blocks. */
const K_AT = 0;
export const H_AT = 256;
const W_AT = 512;
export const INPUT_AT = 1024;

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

// Opcodes (WebAssembly core specification, 5.4).
const [BLOCK, LOOP, BR, BR_IF, END, EMPTY] = [0x02, 0x03, 0x0c, 0x0d, 0x0b, 0x40];
const [GET, SET, TEE, LOAD, STORE, CONST] = [0x20, 0x21, 0x22, 0x28, 0x36, 0x41];
const [EQZ, NE, ADD, SUB, AND, OR, XOR, SHR_U, ROTR] = [0x45, 0x47, 0x6a, 0x6b, 0x71, 0x72, 0x73, 0x76, 0x78];

/** A function body's instructions, written in order (each method appends and returns the emitter). */
class Instructions {
  readonly bytes: number[] = [];
  op(...bytes: number[]): this {
    for (const byte of bytes) this.bytes.push(byte);
    return this;
  }
  get(local: number): this {
    return this.op(GET, local);
  }
  set(local: number): this {
    return this.op(SET, local);
  }
  tee(local: number): this {
    return this.op(TEE, local);
  }
  i32(value: number): this {
    return this.op(CONST, ...sleb(value | 0));
  }
  load(offset: number): this {
    return this.op(LOAD, 2, ...uleb(offset));
  }
  store(offset: number): this {
    return this.op(STORE, 2, ...uleb(offset));
  }
  /** rotr(v, r1) ^ rotr(v, r2) ^ (v >>> r3, or rotr(v, r3)), v the value of `local`. */
  sigma(local: number, r1: number, r2: number, r3: number, shift: boolean): this {
    this.get(local).i32(r1).op(ROTR).get(local).i32(r2).op(ROTR, XOR);
    return this.get(local)
      .i32(r3)
      .op(shift ? SHR_U : ROTR, XOR);
  }
}

/** The module's bytes. */
export function sha256CompressionModule(): Uint8Array<ArrayBuffer> {
  // Locals: the parameters, the working variables a–h, the byte offset t, and two temporaries.
  const [at, count, a, b, c, d, e, f, g, h, t, x, t1] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
  const code = new Instructions();
  /** `body()` for each byte offset t from `from` (inclusive) to `to` (exclusive), in steps of 4. */
  const forT = (from: number, to: number, body: () => void) => {
    code.i32(from).set(t).op(LOOP, EMPTY);
    body();
    code.get(t).i32(4).op(ADD).tee(t).i32(to).op(NE, BR_IF, 0, END);
  };
  /** W[t - back / 4], t the byte offset. */
  const wBack = (back: number) => code.get(t).i32(back).op(SUB).load(W_AT);

  code.op(BLOCK, EMPTY, LOOP, EMPTY);
  code.get(count).op(EQZ, BR_IF, 1); // no blocks left: out of the block
  // W[0..15]: the block's words, big-endian: (rotr(v, 8) & 0xff00ff00) | (rotr(v, 24) & 0x00ff00ff)
  forT(0, 64, () => {
    code.get(t).get(at).get(t).op(ADD).load(0).tee(x).i32(8).op(ROTR).i32(0xff00ff00).op(AND);
    code.get(x).i32(24).op(ROTR).i32(0x00ff00ff).op(AND, OR).store(W_AT);
  });
  // W[16..63] = σ1(W[t-2]) + W[t-7] + σ0(W[t-15]) + W[t-16]
  forT(64, 256, () => {
    code.get(t);
    wBack(8).set(x).sigma(x, 17, 19, 10, true);
    wBack(28).op(ADD);
    wBack(60).set(x).sigma(x, 7, 18, 3, true).op(ADD);
    wBack(64).op(ADD).store(W_AT);
  });
  const working = [a, b, c, d, e, f, g, h];
  working.forEach((local, i) =>
    code
      .i32(0)
      .load(H_AT + 4 * i)
      .set(local),
  );
  forT(0, 256, () => {
    // T1 = h + Σ1(e) + Ch(e, f, g) + K[t] + W[t], with Ch(e, f, g) = g ^ (e & (f ^ g))
    code.get(h).sigma(e, 6, 11, 25, false).op(ADD);
    code.get(g).get(e).get(f).get(g).op(XOR, AND, XOR, ADD);
    code.get(t).load(K_AT).op(ADD).get(t).load(W_AT).op(ADD).set(t1);
    // h = g, g = f, f = e, e = d + T1, d = c, c = b, b = a
    code.get(g).set(h).get(f).set(g).get(e).set(f).get(d).get(t1).op(ADD).set(e);
    code.get(c).set(d).get(b).set(c).get(a).set(b);
    // a = T1 + Σ0(old a) + Maj(old a, b, c), now in b, c and d; Maj(a, b, c) = (a & b) | (c & (a | b))
    code.get(t1).sigma(b, 2, 13, 22, false).op(ADD);
    code.get(b).get(c).op(AND).get(d).get(b).get(c).op(OR, AND, OR, ADD).set(a);
  });
  // H[i] += the working variables
  working.forEach((local, i) =>
    code
      .i32(0)
      .i32(0)
      .load(H_AT + 4 * i)
      .get(local)
      .op(ADD)
      .store(H_AT + 4 * i),
  );
  code.get(at).i32(64).op(ADD).set(at);
  code.get(count).i32(1).op(SUB).set(count);
  code.op(BR, 0, END, END, END); // the next block; end of the loop, the block and the function

  const body = [1, 11, 0x7f, ...code.bytes]; // one group of 11 i32 locals
  const constants = K.flatMap((k) => [k & 0xff, (k >>> 8) & 0xff, (k >>> 16) & 0xff, k >>> 24]);
  const section = (id: number, content: number[]) => [id, ...uleb(content.length), ...content];
  const name = (text: string) => [...uleb(text.length), ...Array.from(text, (char) => char.charCodeAt(0))];
  return Uint8Array.from([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, [1, 0x60, 2, 0x7f, 0x7f, 0]), // type 0: (i32, i32) -> ()
    ...section(3, [1, 0]), // function 0 has type 0
    ...section(5, [1, 0, 1]), // one memory, at least one page
    ...section(7, [2, ...name("memory"), 2, 0, ...name("blocks"), 0, 0]),
    ...section(10, [1, ...uleb(body.length), ...body]),
    // The round constants, little-endian, at K_AT
    ...section(11, [1, 0, CONST, ...sleb(K_AT), END, ...uleb(constants.length), ...constants]),
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
