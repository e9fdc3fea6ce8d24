/** Configs for tests: a minimal valid one to vary, and helpers to parse, synthesize and read them back. */
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { stringify } from "yaml";
import { parseConfig } from "../../src/config/load";
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

/** The props of an AccountStack for the first account of `raw`, parsed. */
export function accountStackProps(raw: RawConfig = minimalConfig()) {
  const config = parse(raw);
  return { gitlab: config.gitlab, state: config.state, limits: config.limits, account: config.accounts[0] };
}

/** The problems a config is refused for, one formatted line each; [] when it is accepted. */
export function problemsOf(rawOrYaml: RawConfig | string): string[] {
  try {
    parseConfig(typeof rawOrYaml === "string" ? rawOrYaml : stringify(rawOrYaml), "test.yaml");
    return [];
  } catch (error) {
    return (error as Error).message.split("\n");
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
