/** Configs for tests: a minimal valid one to vary, and helpers to parse, synthesize and read them back. */
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { stringify } from "yaml";
import { parseConfig } from "../../src/config/load";
import { ConfigError } from "../../src/config/rules";
import type { Config } from "../../src/config/schema";
import { synthesize } from "../../src/synth";
import { readSynthesizedStacks, type SynthesizedStack } from "../../src/terraform/synthesized-stacks";

/** A plain-object config, as it would be written in YAML. */
export type RawConfig = Record<string, unknown>;

export function minimalConfig(
  role: Record<string, unknown> = {},
  account: Record<string, unknown> = {},
): RawConfig {
  return {
    gitlab: { url: "https://gitlab.com" },
    accounts: [
      {
        name: "production",
        accountId: "111111111111",
        region: "eu-west-1",
        roles: [{ name: "deploy", allow: [{ project: "acme/web", branches: ["main"] }], ...role }],
        ...account,
      },
    ],
  };
}

export function parse(raw: RawConfig): Config {
  return parseConfig(stringify(raw), "test.yaml");
}

/**
 * The problems a config is refused for, one formatted line each; [] when it is accepted. Only a
 * ConfigError means "refused": any other exception (a TypeError in a rule) is a bug and fails the test.
 */
export function problemsOf(rawOrYaml: RawConfig | string): string[] {
  try {
    parseConfig(typeof rawOrYaml === "string" ? rawOrYaml : stringify(rawOrYaml), "test.yaml");
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.message.split("\n");
    throw error;
  }
}

/** Synthesizes into a fresh temporary directory and reads the stacks back from the written files. */
export async function synthesizeToTemp(
  config: Config,
  hcl = true,
): Promise<{ dir: string; stacks: SynthesizedStack[]; cleanup: () => void }> {
  const root = mkdtempSync(join(tmpdir(), "gitlab-oidc-test-"));
  const dir = join(root, "out");
  synthesize(config, { outdir: dir, hcl });
  return {
    dir,
    stacks: await readSynthesizedStacks(dir),
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}

/** Every file below `dir`, as sorted paths relative to it. */
export function filesUnder(dir: string, base = dir): string[] {
  return readdirSync(dir)
    .flatMap((entry) => {
      const path = join(dir, entry);
      return statSync(path).isDirectory() ? filesUnder(path, base) : [relative(base, path)];
    })
    .sort();
}
