/**
 * Random hex for the markers a run places in text it then scans (src/config/yaml-chunks.ts,
 * src/terraform/formatted-hcl.ts): from the kernel's generator, read as a file, so a run need not load
 * `node:crypto` for it (3–6 ms of a start-up: ./sha256.ts); from node:crypto where there is no
 * /dev/urandom.
 */
import { closeSync, openSync, readSync } from "node:fs";

/** `bytes` cryptographically random bytes, in hex. */
export function randomHex(bytes: number): string {
  const buffer = Buffer.alloc(bytes);
  try {
    const fd = openSync("/dev/urandom", "r");
    try {
      let filled = 0;
      while (filled < bytes) {
        const read = readSync(fd, buffer, filled, bytes - filled, null);
        if (read <= 0) throw new Error("/dev/urandom gave no bytes");
        filled += read;
      }
    } finally {
      closeSync(fd);
    }
  } catch {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- only where /dev/urandom is missing
    return (require("node:crypto") as typeof import("node:crypto")).randomBytes(bytes).toString("hex");
  }
  return buffer.toString("hex");
}
