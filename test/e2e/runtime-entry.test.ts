/**
 * Every command's entry point imports src/runtime/entry before anything else, so cdktf's DEP0044 is
 * silenced and the compile cache is on before cdktf and the rest load. A command added later (resolve,
 * audit) adds its file here and a row to test/e2e/quiet-runs.test.ts.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { COMPILE_CACHE_SUBDIR } from "../../src/runtime/compile-cache";

const ROOT = join(__dirname, "..", "..");
const ENTRY_POINTS = [
  "main.ts",
  "src/explain/cli.ts",
  "src/config/json-schema.ts",
  "src/gitlab/cli.ts",
  "src/audit/cli.ts",
  "src/init/cli.ts",
  "bench/run.ts",
  "bench/phases.ts",
];
const [major, minor] = process.versions.node.split(".").map(Number);
/** `module.getCompileCacheDir` exists from Node 22.8. */
const CAN_ASK_CACHE_DIR = major > 22 || (major === 22 && minor >= 8);

test.each(ENTRY_POINTS)("%s imports src/runtime/entry first", (file) => {
  // GIVEN the entry point's source WHEN its imports are read in order
  const imports = [
    ...readFileSync(join(ROOT, file), "utf8").matchAll(/^import\s[^;]*?["']([^"']+)["'];/gms),
  ].map((match) => match[1]);
  // THEN the first is the runtime entry, by its path relative to the file
  const expected = relative(dirname(join(ROOT, file)), join(ROOT, "src/runtime/entry")).replace(
    /^(?!\.)/,
    "./",
  );
  expect(imports[0]).toBe(expected);
});

test(`the entry import turns the compile cache on where Node has one (Node ${process.version})`, () => {
  // GIVEN a process that loads the compiled entry module first
  execFileSync(process.execPath, [join(ROOT, "scripts", "build.mjs")], { cwd: ROOT });
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_OPTIONS: "" };
  delete env.NODE_COMPILE_CACHE;
  delete env.NODE_DISABLE_COMPILE_CACHE;
  // WHEN it asks Node where the compile cache is (`module.getCompileCacheDir`, Node ≥ 22.8)
  const dir = execFileSync(
    process.execPath,
    [
      "--require",
      join(ROOT, "dist/src/runtime/entry.js"),
      "-p",
      'require("node:module").getCompileCacheDir?.() ?? "no compile cache"',
    ],
    { env, encoding: "utf8" },
  ).trim();
  // THEN it is under node_modules/.cache (Node 20 has none)
  if (CAN_ASK_CACHE_DIR) expect(dir).toContain(COMPILE_CACHE_SUBDIR);
  else expect(dir).toBe("no compile cache");
});

test(`dist/main.js turns the compile cache on for the per-file build only (Node ${process.version})`, () => {
  // GIVEN the main job on the example, with a preload that reports where Node's compile cache is at exit
  execFileSync(process.execPath, [join(ROOT, "scripts", "build.mjs")], { cwd: ROOT });
  const outdir = mkdtempSync(join(tmpdir(), "gitlab-oidc-cache-dir-"));
  const report = join(outdir, "report.cjs");
  writeFileSync(
    report,
    'process.on("exit", () => process.stderr.write("cache: " + (require("node:module").getCompileCacheDir?.() ?? "none") + "\\n"));',
  );
  const cacheDirOf = (extra: NodeJS.ProcessEnv) => {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      NODE_OPTIONS: "",
      CDKTF_OUTDIR: join(outdir, "out"),
      ...extra,
    };
    env.GITLAB_OIDC_CONFIG = join(ROOT, "examples", "basic", "gitlab-oidc.yaml");
    delete env.NODE_COMPILE_CACHE;
    delete env.NODE_DISABLE_COMPILE_CACHE;
    const result = spawnSync(process.execPath, ["--require", report, join(ROOT, "dist", "main.js")], {
      cwd: ROOT,
      env,
      encoding: "utf8",
    });
    expect(result.status).toBe(0);
    return /cache: (.*)/.exec(result.stderr)?.[1];
  };
  try {
    // WHEN it runs the bundle, and then the per-file build
    // (the per-file build only where Node can say where its cache is: Node 22.8+, test-node-versions.mjs)
    const bundled = cacheDirOf({});
    const unbundled = CAN_ASK_CACHE_DIR ? cacheDirOf({ GITLAB_OIDC_UNBUNDLED: "1" }) : undefined;
    // THEN the bundle left Node's compile cache off (it has its own), the per-file build turned it on
    expect(bundled).toBe("none");
    if (CAN_ASK_CACHE_DIR) expect(unbundled).toContain(COMPILE_CACHE_SUBDIR);
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
});
