/**
 * The HCL formatter is ours (fast); these tests hold it to HCL's own formatter (@cdktf/hcl-tools,
 * hclwrite compiled to WebAssembly) and to `terraform fmt` on every shape of stack we synthesize.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig } from "../../src/config/load";
import type { Config } from "../../src/config/schema";
import { buildApp } from "../../src/synth";
import { formatHcl } from "../../src/terraform/format-hcl";
import { unwrapInterpolationOnlyStrings } from "../../src/terraform/unwrap-interpolations";
import { generateConfig, generateLock } from "../../bench/generate";
import { parseLock, readLockFor } from "../../src/gitlab/lock";
import { runOk } from "../support/run";
import { TERRAFORM, testWithTool } from "../support/tools";

const ROOT = join(__dirname, "..", "..");
const fixture = (name: string) =>
  parseConfig(readFileSync(join(ROOT, name), "utf8"), name, readLockFor(join(ROOT, name)));

/** cdktf's HCL before formatting, references unwrapped, one entry per stack. */
function synthesizeRawHcl(config: Config): Record<string, string> {
  const dir = mkdtempSync(join(tmpdir(), "gitlab-oidc-raw-"));
  try {
    buildApp(config, dir, true).synth();
    return Object.fromEntries(
      readdirSync(join(dir, "stacks")).map((stack) => [
        stack,
        unwrapInterpolationOnlyStrings(readFileSync(join(dir, "stacks", stack, "cdk.tf"), "utf8")),
      ]),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const rawByConfig = new Map<() => Config, Record<string, string>>();
/** rawHcl of a config, synthesized once for this file (both comparisons read it). */
function rawHcl(config: () => Config): Record<string, string> {
  if (!rawByConfig.has(config)) rawByConfig.set(config, synthesizeRawHcl(config()));
  return rawByConfig.get(config)!;
}

const configs: [string, () => Config][] = [
  ["the example", () => fixture("test/fixtures/configs/example.yaml")],
  ["every feature at once", () => fixture("test/fixtures/configs/kitchen-sink.yaml")],
  ["IAM names Terraform does not allow", () => fixture("test/fixtures/configs/odd-names.yaml")],
  [
    "a generated 2 × 20-role config",
    () =>
      parseConfig(
        generateConfig(2, 20),
        "generated.yaml",
        parseLock(generateLock(2, 20), "generated.lock.yaml"),
      ),
  ],
];

describe("formatHcl", () => {
  test.each(configs)("formats %s exactly as HCL's own formatter does", async (_name, config) => {
    // GIVEN cdktf's unformatted HCL for the config
    const { format } = await import("@cdktf/hcl-tools");
    for (const [stack, raw] of Object.entries(rawHcl(config))) {
      // WHEN both formatters format it (blank-line runs are collapsed either way)
      const reference = (await format(raw)).replace(/\n{3,}/g, "\n\n").replace(/\n*$/, "\n");
      // THEN the results are identical
      expect({ stack, hcl: formatHcl(raw) }).toEqual({ stack, hcl: reference });
    }
  });

  // The formatter is held to HCL's own formatter above on every machine; terraform fmt in addition where installed.
  testWithTool(TERRAFORM, "leaves nothing for terraform fmt to change", () => {
    const dir = mkdtempSync(join(tmpdir(), "gitlab-oidc-fmt-"));
    try {
      for (const [name, config] of configs) {
        for (const [stack, raw] of Object.entries(rawHcl(config))) {
          writeFileSync(join(dir, `${name.replace(/\W+/g, "-")}-${stack}.tf`), formatHcl(raw));
        }
      }
      // runOk: terraform fmt -check exits 3 and prints the diff when a file would change
      expect(runOk("terraform", ["fmt", "-check", "-diff", dir], { timeoutMs: 30_000 }).stdout).toBe("");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("indents, aligns runs of attributes, and spaces one-line braces", () => {
    const raw = [
      'resource "a" "b" {',
      'name = "x"',
      "max_session_duration = 3600",
      "tags = {",
      'k = "v"',
      "}",
      'policy = jsonencode({"a" = [{"b" = "$${c}"}], "d" = {}})',
      "}",
    ].join("\n");
    expect(formatHcl(raw)).toBe(
      [
        'resource "a" "b" {',
        '  name                 = "x"',
        "  max_session_duration = 3600",
        "  tags = {",
        '    k = "v"',
        "  }",
        '  policy = jsonencode({ "a" = [{ "b" = "$${c}" }], "d" = {} })',
        "}",
        "",
      ].join("\n"),
    );
  });
});
