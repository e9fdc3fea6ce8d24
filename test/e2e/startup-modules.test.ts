/**
 * What the main job's start-up leaves out (issue 25, docs/performance.md): on the example, a run of
 * `node dist/main.js` loads neither `node:crypto` (its hashes are computed in WebAssembly,
 * src/runtime/sha256.ts; cdktf's and constructs' own `crypto` is required on first use) nor Node's
 * streams, which both cost milliseconds of every start-up; and it writes its summary without making
 * `process.stdout`.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runOk } from "../support/run";

const ROOT = join(__dirname, "..", "..");

test("GIVEN the example WHEN the main job runs THEN node:crypto, streams and net stay unloaded", () => {
  runOk(process.execPath, [join(ROOT, "scripts", "build.mjs")], { timeoutMs: 60_000 });
  const dir = mkdtempSync(join(tmpdir(), "gitlab-oidc-startup-"));
  try {
    // A preload that lists, at exit, the built-in modules Node loaded that this test watches
    const report = join(dir, "report.cjs");
    // (written with fs.writeSync: process.stderr would itself load the streams)
    writeFileSync(
      report,
      `process.on("exit", () => require("node:fs").writeSync(2, "loaded: " + JSON.stringify(
        process.moduleLoadList.filter((m) => /^NativeModule (crypto|stream|net|tty|internal\\/streams\\/(?!utils$))/.test(m))
      ) + "\\n"));`,
    );
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      NODE_OPTIONS: "",
      GITLAB_OIDC_CONFIG: join(ROOT, "examples", "basic", "gitlab-oidc.yaml"),
      CDKTF_OUTDIR: join(dir, "out"),
      GITLAB_OIDC_FULL_SYNTH: "1",
    };
    const result = spawnSync(process.execPath, ["--require", report, join(ROOT, "dist", "main.js")], {
      cwd: ROOT,
      env,
      encoding: "utf8",
    });
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^Synthesized 2 stack\(s\), 3 role\(s\) from /);
    expect(JSON.parse(/loaded: (.*)/.exec(result.stderr)![1]!)).toEqual([]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
