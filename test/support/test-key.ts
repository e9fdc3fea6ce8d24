/**
 * TEST SUPPORT: the RSA key the stand-ins sign ID tokens with (the STS stand-in, explain's tokens). One
 * per jest run, not one per test file: a 2048-bit key pair takes 50–250 ms of CPU to generate, ~1.7 s over
 * the end-to-end tier. The first test file to ask writes it into the run's TMPDIR
 * (./scratch-dir.cjs, removed with the run) and every other file reads it back; a throwaway key, made
 * again by every run, never committed.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** The run's token-signing key pair. */
export function testKeyPair(): { privateKey: KeyObject; publicKey: KeyObject } {
  const file = join(tmpdir(), "gitlab-oidc-test-rs256.pem");
  let pem: string;
  try {
    pem = readFileSync(file, "utf8");
  } catch {
    pem = generateKeyPairSync("rsa", { modulusLength: 2048 })
      .privateKey.export({ type: "pkcs8", format: "pem" })
      .toString();
    // Whole or not at all: a file another worker is writing is never read half-written.
    const temporary = `${file}.${process.pid}`;
    writeFileSync(temporary, pem, { mode: 0o600 });
    renameSync(temporary, file);
  }
  const privateKey = createPrivateKey(pem);
  return { privateKey, publicKey: createPublicKey(privateKey) };
}
