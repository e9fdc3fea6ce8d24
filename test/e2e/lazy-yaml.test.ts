/**
 * The config loader reads valid configs with js-yaml and needs `yaml` only to locate a config's
 * problems; the build (scripts/build.mjs, swc `lazy: ["yaml"]`) requires it on first use, so a valid
 * config never loads its 72 modules.
 */
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const ROOT = join(__dirname, "..", "..");
let dir: string;
beforeAll(() => {
  execFileSync(process.execPath, [join(ROOT, "scripts", "build.mjs")], { cwd: ROOT });
  dir = mkdtempSync(join(tmpdir(), "gitlab-oidc-lazy-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Loads `config` with the compiled loader in a fresh process: the outcome, and whether `yaml` was loaded. */
function load(config: string): { outcome: string; yamlLoaded: boolean } {
  const file = join(dir, "gitlab-oidc.yaml");
  writeFileSync(file, config);
  // The example's pinned IDs, beside it as the loader expects.
  copyFileSync(join(ROOT, "test/fixtures/configs/example.lock.yaml"), join(dir, "gitlab-oidc.lock.yaml"));
  const script = `
    const { loadConfigFile } = require(${JSON.stringify(join(ROOT, "dist/src/config/load.js"))});
    let outcome;
    try { outcome = "valid: " + loadConfigFile(${JSON.stringify(file)}).accounts.length + " account(s)"; }
    catch (error) { outcome = error.message; }
    const yamlLoaded = Object.keys(require.cache).some((path) => /[\\\\/]node_modules[\\\\/]yaml[\\\\/]/.test(path));
    process.stdout.write(JSON.stringify({ outcome, yamlLoaded }));`;
  return JSON.parse(execFileSync(process.execPath, ["-e", script], { encoding: "utf8" }));
}

test("a valid config is read without loading yaml", () => {
  // GIVEN the example config WHEN the compiled loader reads it THEN it is valid and yaml stays unloaded
  expect(load(readFileSync(join(ROOT, "test/fixtures/configs/example.yaml"), "utf8"))).toEqual({
    outcome: "valid: 2 account(s)",
    yamlLoaded: false,
  });
});

test("a config with a problem loads yaml and gets its line", () => {
  // GIVEN the example with an unquoted account id WHEN read THEN the problem names its line, via yaml
  const config = readFileSync(join(ROOT, "test/fixtures/configs/example.yaml"), "utf8").replace(
    /accountId: "(\d{12})"/,
    "accountId: $1",
  );
  const { outcome, yamlLoaded } = load(config);
  expect(outcome).toMatch(/gitlab-oidc\.yaml:\d+:\d+: accounts\[0\]\.accountId/);
  expect(yamlLoaded).toBe(true);
});
