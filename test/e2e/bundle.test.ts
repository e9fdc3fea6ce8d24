/**
 * The main job's bundle (scripts/bundle.mjs, dist/bundle/main.js) against its per-file build
 * (dist/main.unbundled.js, what `node dist/main.js` ran before bundling): the same exit code, messages
 * and output, byte for byte, on the example, the kitchen sink, an adopted account and broken YAML (every
 * other config under test/fixtures/configs/ and problem: test/slow/bundle-breadth.test.ts). And
 * dist/main.js really runs the bundle (one file, no cdktf module of its own), except for a config with an
 * extension, which runs the per-file build. One build for all of them.
 */
import { isAscii } from "node:buffer";
import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  BUNDLE,
  CONFIGS,
  expectSameRefusal,
  expectSameSynth,
  ROOT,
  synth,
  useBuiltScratch,
} from "../support/bundle-compare";
import { exampleText } from "../support/example";
import { run, type RunResult } from "../support/run";

const LAUNCHER = join(ROOT, "dist", "main.js");
const scratch = useBuiltScratch();

test.each([
  ["examples/basic (a fresh clone's npm run synth)", join(ROOT, "examples", "basic", "gitlab-oidc.yaml")],
  ["kitchen-sink.yaml (every setting)", join(CONFIGS, "kitchen-sink.yaml")],
])("%s: the bundle writes byte for byte what the per-file build writes", (name, config) => {
  // GIVEN a config WHEN both builds synthesize it THEN they succeed alike, with the same files and messages
  expectSameSynth(scratch.dir, config, name);
});

test("a config with broken YAML: the same messages and exit code, nothing written", () => {
  // GIVEN the example, broken
  const config = join(scratch.dir, "bad-broken-yaml.yaml");
  writeFileSync(config, exampleText().replace("accounts:\n", "accounts:\n  - name: [unclosed\n"));
  // WHEN both builds run on it THEN both refuse it alike, naming the file
  expectSameRefusal(scratch.dir, config, "broken YAML");
});

test("an adopted account (import blocks, cdktf's importable resources): the same", () => {
  // GIVEN the example with its production account adopted
  const config = join(scratch.dir, "adopted.yaml");
  writeFileSync(
    config,
    exampleText().replace("    provider: create\n", "    provider: create\n    adopt: true\n"),
  );
  cpSync(join(CONFIGS, "example.lock.yaml"), join(scratch.dir, "adopted.lock.yaml"));
  expect(readFileSync(config, "utf8")).toContain("adopt: true");
  // WHEN both builds synthesize it THEN they agree, and the HCL has the import blocks
  const bundled = expectSameSynth(scratch.dir, config, "adopted");
  expect(bundled.files["stacks/production/cdk.tf"]).toMatch(/^import \{/m);
});

test("the bundle is ASCII, so the launcher reads it on the fast path (src/runtime/bundle-cache.ts)", () => {
  expect(isAscii(readFileSync(BUNDLE))).toBe(true);
});

test("the bundle holds none of the audit, resolve, explain or iam code, nor a cut module", () => {
  // GIVEN the bundle's inputs as the build recorded them (dist/bundle/main.inputs.json)
  const { inputs } = JSON.parse(readFileSync(join(ROOT, "dist", "bundle", "main.inputs.json"), "utf8")) as {
    inputs: string[];
  };
  expect(inputs).toContain("src/synth.ts");
  // THEN only what a synth runs: no other command's code (explain's subject parser writes ACCESS.md)
  const otherCommands = inputs.filter(
    (input) =>
      /^src\/(audit|iam|init)\//.test(input) ||
      /^src\/gitlab\/(?!lock\.ts$)/.test(input) ||
      /^src\/explain\/(?!subject\.ts$)/.test(input) ||
      /^src\/terraform\/synthesized-stacks\.ts$/.test(input),
  );
  expect(otherCommands).toEqual([]);
  // AND nothing of what scripts/bundle.mjs cuts
  expect(
    inputs.filter((input) =>
      /node_modules\/(cdktf\/node_modules\/archiver|zod\/v4\/locales\/(?!en\.js))|cdktf\/lib\/testing\//.test(
        input,
      ),
    ),
  ).toEqual([]);
});

/** The modules a run of dist/main.js loaded, relative to the repository; its result. */
function loadedBy(config: string, outdir: string): { result: RunResult; modules: string[] } {
  const list = `${outdir}.modules.json`;
  const script = `process.on("exit", () => require("node:fs").writeFileSync(${JSON.stringify(list)}, JSON.stringify(Object.keys(require.cache))));
require(${JSON.stringify(LAUNCHER)});`;
  const result = run(process.execPath, ["-e", script], {
    cwd: ROOT,
    env: { ...process.env, NODE_OPTIONS: "", GITLAB_OIDC_CONFIG: config, CDKTF_OUTDIR: outdir },
    timeoutMs: 60_000,
  });
  const modules = (JSON.parse(readFileSync(list, "utf8")) as string[]).map((m) => m.replace(`${ROOT}/`, ""));
  return { result, modules };
}

test("node dist/main.js runs the bundle: two files, the launcher and the bundle", () => {
  // GIVEN the example WHEN the launcher runs it
  const { result, modules } = loadedBy(join(CONFIGS, "example.yaml"), join(scratch.dir, "launched"));
  // THEN it ran the bundle, whose modules are inside it, from the launcher, whose modules are inside it
  // (src/runtime/main-launcher.ts): no node_modules, no per-file build
  expect(result.status).toBe(0);
  expect(modules.sort()).toEqual(["dist/bundle/main.js", "dist/main.js"]);
});

test("a config with an extension runs the per-file build, with the extension in the output", () => {
  // GIVEN the extension fixture (its extension compiles to its mirror path under dist/)
  const config = join(ROOT, "test", "fixtures", "extension", "gitlab-oidc.yaml");
  // WHEN dist/main.js runs it
  const { result, modules } = loadedBy(config, join(scratch.dir, "extension"));
  // THEN the per-file build ran, and said it used the extension
  expect(result.stderr).toBe("");
  expect(result.status).toBe(0);
  expect(result.stdout).toMatch(/with .*gitlab-oidc\.extend\.ts/);
  expect(modules).toContain("dist/main.unbundled.js");
  expect(modules).not.toContain("dist/bundle/main.js");
  // AND the bundle run directly refuses the extension instead of loading a second copy of the tool
  const direct = synth(scratch.dir, BUNDLE, config, "extension-direct");
  expect(direct.status).toBe(1);
  expect(direct.stderr).toMatch(/cannot load an extension/);
  expect(direct.files).toEqual({});
});
