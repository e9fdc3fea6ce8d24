/**
 * Every command's entry point imports src/runtime/entry before anything else, so cdktf's DEP0044 is
 * silenced and the compile cache is on before cdktf and the rest load. A command added later (resolve,
 * audit) adds its file here and a row to test/e2e/quiet-runs.test.ts.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
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
