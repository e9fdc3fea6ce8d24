/**
 * A bundle's SHA-256, part of the tool fingerprint (src/synth-cache.ts): the build records it beside the
 * bundle (scripts/build.mjs), so a run need not hash the 1.2 MB it runs (~0.6 ms of every start-up).
 */
import { createSha256 } from "./sha256";
import { readFileSync, statSync } from "node:fs";

/** Where the build records a bundle's SHA-256 (scripts/build.mjs): `main.js` → `main.digest.json`. */
export function bundleDigestFile(bundle: string): string {
  return bundle.replace(/\.js$/, ".digest.json");
}

/** What the build records of a bundle it wrote: its SHA-256, size and modification time. */
export interface BundleDigestRecord {
  readonly sha256: string;
  readonly size: number;
  readonly mtimeMs: number;
}

/**
 * SHA-256 (hex) of a bundle's bytes. While the bundle is the file the build wrote (the size and
 * modification time in its record, the same identity its code cache is keyed by), the build's record of
 * it: hashing the 1.2 MB took ~0.6 ms of every start-up. Otherwise, or with no readable record, of
 * `bytes` (what the launcher read to run it) or of the file.
 */
export function bundleDigest(bundle: string, bytes?: Uint8Array): string {
  const record = readDigestRecord(bundleDigestFile(bundle));
  if (record) {
    const stat = statSync(bundle, { throwIfNoEntry: false });
    if (stat && stat.size === record.size && stat.mtimeMs === record.mtimeMs) return record.sha256;
  }
  return createSha256()
    .update(bytes ?? readFileSync(bundle))
    .digest("hex");
}

function readDigestRecord(file: string): BundleDigestRecord | undefined {
  let record: Partial<BundleDigestRecord>;
  try {
    record = JSON.parse(readFileSync(file, "utf8")) as Partial<BundleDigestRecord>;
  } catch {
    return undefined;
  }
  const valid =
    typeof record.sha256 === "string" &&
    /^[0-9a-f]{64}$/.test(record.sha256) &&
    typeof record.size === "number" &&
    typeof record.mtimeMs === "number";
  return valid ? (record as BundleDigestRecord) : undefined;
}
