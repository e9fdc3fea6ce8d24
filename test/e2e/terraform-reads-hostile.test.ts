/**
 * terraform itself reads what the writer wrote: the hostile cdk.tf files of test/writer-escaping.test.ts
 * and test/adopt-escaping.test.ts (validation switched off), the escaped literals of hclString, an
 * adopted account's import blocks and the example's synth, each checked in process there and in
 * test/synth.test.ts with HCL's own parser and formatter; here the terraform binary in addition, where
 * it is installed (skipped loudly elsewhere: not a Debian package).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Config } from "../../src/config/schema";
import { synthesize } from "../../src/synth";
import { hclString } from "../../src/terraform/literal";
import { parse } from "../support/configs";
import { synthesizedExample } from "../support/example";
import { adoptedWithPolicies, HCL_LITERALS, hostileAdoption, hostileConfig } from "../support/hostile-writer";
import { run, runOk } from "../support/run";
import { TERRAFORM, testWithTool } from "../support/tools";

// Values that got past validation: the constructs' rules accept everything in this file.
jest.mock("../../src/config/rules", () =>
  (
    jest.requireActual("../support/unchecked-rules") as typeof import("../support/unchecked-rules")
  ).uncheckedRules(),
);

/** terraform without a CLI config or the version check's network call. */
const TERRAFORM_ENV = { ...process.env, TF_CLI_CONFIG_FILE: "/dev/null", CHECKPOINT_DISABLE: "1" };

let root: string;
beforeAll(() => (root = mkdtempSync(join(tmpdir(), "gitlab-oidc-terraform-reads-"))));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The production stack's cdk.tf of `config`, synthesized to HCL. */
function productionHcl(config: Config, name: string): string {
  synthesize(config, { outdir: join(root, name), hcl: true });
  return readFileSync(join(root, name, "stacks", "production", "cdk.tf"), "utf8");
}

/** `terraform fmt -` on `source`: what it printed, and how it exited. */
function terraformFmt(source: string) {
  return run("terraform", ["fmt", "-"], { input: source, env: TERRAFORM_ENV, timeoutMs: 20_000 });
}

describe.each([
  ["the writer's hostile values", () => productionHcl(hostileConfig(), "writer")],
  ["adoption's hostile import IDs", () => productionHcl(hostileAdoption(), "adoption")],
])("terraform parses the cdk.tf holding %s", (_what, hcl) => {
  testWithTool(TERRAFORM, "terraform fmt - reads it without an error", () => {
    // GIVEN the file the writer wrote WHEN terraform fmt reads it THEN it parses
    const result = terraformFmt(hcl());
    expect(result.stderr).not.toMatch(/Error/);
    expect(result.status).toBe(0);
  });
});

testWithTool(
  TERRAFORM,
  "an adopted account's import blocks are formatted as terraform fmt formats them",
  () => {
    // GIVEN the HCL of an adopted account with managed and inline policies
    const text = productionHcl(parse(adoptedWithPolicies()), "adopted");
    // WHEN terraform fmt formats it THEN nothing changes
    const result = terraformFmt(text);
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(text);
  },
);

testWithTool(TERRAFORM, "hclString's literals are read by terraform console as the values", () => {
  // GIVEN values that try to interpolate, add directives, close the string or add a block, as hclString
  // writes them
  const work = mkdtempSync(join(root, "console-"));
  writeFileSync(
    join(work, "main.tf"),
    `locals {\n  values = [${HCL_LITERALS.map(hclString).join(", ")}]\n}\n`,
  );
  // WHEN terraform console evaluates them
  const result = run("terraform", ["console"], {
    cwd: work,
    input: "jsonencode(local.values)\n",
    env: TERRAFORM_ENV,
    timeoutMs: 20_000,
  });
  // THEN each is the literal value
  expect(result.status).toBe(0);
  expect(JSON.parse(JSON.parse(result.stdout.trim()) as string)).toEqual(HCL_LITERALS);
});

testWithTool(
  TERRAFORM,
  "the example's synthesized HCL is formatted as terraform fmt formats it",
  async () => {
    // GIVEN the run's shared synth of the example (test/support/global-setup.mjs)
    const example = await synthesizedExample();
    // WHEN terraform fmt -check reads every file (it exits 3 and prints the diff when one would change)
    const check = runOk("terraform", ["fmt", "-check", "-diff", "-recursive", example.dir], {
      timeoutMs: 30_000,
    });
    // THEN nothing would change
    expect(check.stdout).toBe("");
  },
);
