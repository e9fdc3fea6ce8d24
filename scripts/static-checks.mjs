// The static checks, side by side: `npm run typecheck`, `npm run lint` and `npm run format:check` (their
// commands come from package.json, where each keeps its cache under node_modules/.cache), started at
// once and reported in a fixed order. Part of `npm test` and `npm run test:all`; nothing else runs them
// again (no test re-runs them).
//
// Exit status 1 when any check fails. `--json FILE` also writes {"passed": n, "failed": n} there (for
// scripts/test-all.mjs, which counts each check as one test).
import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
export const CHECKS = ["typecheck", "lint", "format:check"];
const scripts = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).scripts;
const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;

/** One check: the package.json script's command in sh with node_modules/.bin on PATH, as npm runs it. */
function check(name) {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn("sh", ["-c", scripts[name]], {
      cwd: root,
      env: { ...process.env, PATH: `${join(root, "node_modules", ".bin")}${delimiter}${process.env.PATH}` },
    });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    child.on("error", (error) =>
      resolve({ name, status: 127, output: String(error), ms: Date.now() - started }),
    );
    child.on("close", (status) => resolve({ name, status, output, ms: Date.now() - started }));
  });
}

const missing = CHECKS.filter((name) => !scripts[name]);
if (missing.length > 0) throw new Error(`package.json has no script ${missing.join(", ")}`);
const results = await Promise.all(CHECKS.map(check));
let failed = 0;
for (const { name, status, output, ms } of results) {
  if (status === 0) console.log(`static: ${name} ok (${seconds(ms)})`);
  else {
    failed++;
    process.stdout.write(`${output.trimEnd()}\n`);
    console.log(`static: ${name} FAILED (exit ${status}, ${seconds(ms)}): npm run ${name} says why`);
  }
}
const jsonAt = process.argv.indexOf("--json");
if (jsonAt !== -1) {
  writeFileSync(process.argv[jsonAt + 1], JSON.stringify({ passed: CHECKS.length - failed, failed }));
}
process.exit(failed > 0 ? 1 : 0);
