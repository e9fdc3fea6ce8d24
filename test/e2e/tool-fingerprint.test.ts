/**
 * Incremental synth reuses nothing made by other code (toolFingerprint, src/synth-cache.ts): after any
 * change to the code a run executes — the bundle `node dist/main.js` runs, or a file of the per-file
 * build — the next run synthesizes every stack again, and an unchanged one reuses them. On a copy of
 * dist/, so the project's own build is never touched.
 */
import { createHash } from "node:crypto";
import { appendFileSync, cpSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bundleDigestFile } from "../../src/runtime/bundle-digest";
import { run, runOk } from "../support/run";

const ROOT = join(__dirname, "..", "..");
const EXAMPLE = join(ROOT, "examples", "basic", "gitlab-oidc.yaml");

let copy: string;
beforeAll(() => {
  runOk(process.execPath, [join(ROOT, "scripts", "build.mjs")], { timeoutMs: 60_000 });
  copy = mkdtempSync(join(tmpdir(), "gitlab-oidc-fingerprint-"));
  // Timestamps kept: the copy's bundle is still the one the build recorded (src/runtime/bundle-digest.ts).
  cpSync(join(ROOT, "dist"), join(copy, "dist"), { recursive: true, preserveTimestamps: true });
  symlinkSync(join(ROOT, "node_modules"), join(copy, "node_modules"));
});
afterAll(() => rmSync(copy, { recursive: true, force: true }));

/** The main job of the copy on the example, into `outdir`; its closing line. */
function synth(outdir: string, env: NodeJS.ProcessEnv = {}): string {
  const result = run(process.execPath, [join(copy, "dist", "main.js")], {
    cwd: ROOT,
    env: { ...process.env, NODE_OPTIONS: "", GITLAB_OIDC_CONFIG: EXAMPLE, CDKTF_OUTDIR: outdir, ...env },
    timeoutMs: 60_000,
  });
  expect(result.stderr).toBe("");
  expect(result.status).toBe(0);
  return result.stdout.split("\n")[0]!;
}

test.each([
  ["the bundle (node dist/main.js)", {}, join("dist", "bundle", "main.js")],
  ["the per-file build", { GITLAB_OIDC_UNBUNDLED: "1" }, join("dist", "src", "model", "names.js")],
])("GIVEN %s changed after a synth WHEN the main job runs again THEN nothing is reused", (_, env, file) => {
  const outdir = join(copy, `out-${file.replace(/\W+/g, "-")}`);
  // GIVEN a synth, and a second run that finds everything unchanged
  synth(outdir, env);
  expect(synth(outdir, env)).toMatch(/; unchanged since the last synth$/);
  // WHEN a file of the code it runs changes (a comment: the code's bytes, not its behaviour)
  appendFileSync(join(copy, file), "\n// changed\n");
  // THEN the next run synthesizes every stack again
  const line = synth(outdir, env);
  expect(line).not.toMatch(/unchanged|reused/);
  expect(line).toMatch(/^Synthesized 2 stack\(s\), 3 role\(s\) from /);
  // AND the run after it reuses them again
  expect(synth(outdir, env)).toMatch(/; unchanged since the last synth$/);
});

test("GIVEN a build THEN its record of the bundle's digest is the bundle's SHA-256, size and mtime", () => {
  // The fingerprint takes the digest from this record while the bundle keeps that size and mtime
  // (src/runtime/bundle-digest.ts), so the record must be the bundle's.
  const bundle = join(ROOT, "dist", "bundle", "main.js");
  const record = JSON.parse(readFileSync(bundleDigestFile(bundle), "utf8"));
  const { size, mtimeMs } = statSync(bundle);
  expect(record).toEqual({
    sha256: createHash("sha256").update(readFileSync(bundle)).digest("hex"),
    size,
    mtimeMs,
  });
});
