/**
 * Files the tool keeps for itself (the synth records, src/synth-cache.ts; the parse cache,
 * src/config/parse-cache.ts): the SHA-256 of the body in hex, a newline, then the body. A file that is
 * missing, cut short or changed in any byte reads as absent, never as data; one is written to a
 * temporary name beside it and renamed into place, so a reader never sees half of it.
 */
import { createSha256, sha256Hex } from "./runtime/sha256";
import { closeSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs";
import { dirname } from "node:path";

/** The length of the header: 64 hex digits and a newline. */
const HEADER = 65;

/** The body of a checksummed file, or undefined when it is missing or its checksum does not hold. */
export function readChecksummed(file: string): Buffer | undefined {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch {
    return undefined;
  }
  if (bytes.length < HEADER || bytes[HEADER - 1] !== 0x0a) return undefined;
  const body = bytes.subarray(HEADER);
  const digest = sha256Hex(body);
  return bytes.toString("latin1", 0, HEADER - 1) === digest ? body : undefined;
}

/**
 * Writes `parts`, one after another, as the body of a checksummed file (hashed and written part by
 * part: no copy of a large body into one buffer); false when it could not be written (a read-only disk).
 */
export function writeChecksummed(file: string, parts: readonly Uint8Array[]): boolean {
  const checksum = createSha256();
  for (const part of parts) checksum.update(part);
  const all = [Buffer.from(`${checksum.digest("hex")}\n`, "latin1"), ...parts];
  const temporary = `${file}.${process.pid}.tmp`;
  try {
    mkdirSync(dirname(file), { recursive: true });
    const fd = openSync(temporary, "w");
    try {
      for (const part of all) {
        for (let done = 0; done < part.length; ) done += writeSync(fd, part, done);
      }
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, file);
    return true;
  } catch {
    rmSync(temporary, { force: true });
    return false;
  }
}
