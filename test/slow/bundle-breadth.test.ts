/**
 * Breadth for the bundle against the per-file build (the fast test: test/e2e/bundle.test.ts, on the
 * example, the kitchen sink, an adopted account and broken YAML): every other config under
 * test/fixtures/configs/, the example with JSON output (cdk.tf.json, written through the bundle's own
 * json-stable-stringify: src/terraform/stable-json.ts), and a key the schema does not know. The same exit
 * code, messages and files.
 */
import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  CONFIGS,
  expectSameRefusal,
  expectSameSynth,
  ROOT,
  useBuiltScratch,
} from "../support/bundle-compare";
import { exampleText } from "../support/example";

/** The fast tier's own: test/e2e/bundle.test.ts. */
const IN_THE_FAST_TIER = new Set(["kitchen-sink.yaml"]);

const scratch = useBuiltScratch();

const otherConfigs = readdirSync(CONFIGS)
  .filter((name) => name.endsWith(".yaml") && !name.endsWith(".lock.yaml") && !IN_THE_FAST_TIER.has(name))
  .map((name) => [name, join(CONFIGS, name)]);

test.each(otherConfigs)(
  "%s: the bundle writes byte for byte what the per-file build writes",
  (name, config) => {
    expectSameSynth(scratch.dir, config, name);
  },
);

test("examples/basic with JSON output (SYNTH_HCL_OUTPUT=false): the same files", () => {
  const config = join(ROOT, "examples", "basic", "gitlab-oidc.yaml");
  const bundled = expectSameSynth(scratch.dir, config, "json output", { SYNTH_HCL_OUTPUT: "false" });
  expect(Object.keys(bundled.files)).toContain("stacks/production/cdk.tf.json");
});

test("a config with a key the schema does not know: the same messages and exit code, nothing written", () => {
  const config = join(scratch.dir, "bad-unknown-key.yaml");
  writeFileSync(
    config,
    exampleText().replace("    provider: create\n", "    provider: create\n    colour: blue\n"),
  );
  expectSameRefusal(scratch.dir, config, "unknown key");
});
