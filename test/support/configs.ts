/** Configs for tests: a minimal valid one to vary, and helpers to parse, synthesize and read them back. */
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { parse as parseYaml, stringify } from "yaml";
import { parseConfig } from "../../src/config/load";
import type { Config } from "../../src/config/schema";
import type { GitLabLock } from "../../src/gitlab/lock";
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

/** A stable fake GitLab ID for a path (FNV-1a), so tests name the same IDs on every run. */
export function fakeId(path: string, salt = 0): number {
  let hash = 0x811c9dc5 ^ salt;
  for (const c of path) hash = Math.imul(hash ^ c.charCodeAt(0), 0x01000193) >>> 0;
  return 1000 + (hash % 90_000_000);
}

/**
 * A lock naming every project and group of a raw config, as `npm run resolve` would write it, with
 * fake but stable IDs; a group's descendants are `descendants[group]` (default none).
 */
export function lockFor(raw: RawConfig, descendants: Record<string, number[]> = {}): GitLabLock {
  const lock: { projects: GitLabLock["projects"]; groups: GitLabLock["groups"] } = {
    projects: {},
    groups: {},
  };
  const accounts = (raw.accounts ?? []) as {
    roles?: { allow?: { project?: unknown; group?: unknown }[] }[];
  }[];
  for (const entry of accounts.flatMap((a) => (a.roles ?? []).flatMap((r) => r.allow ?? []))) {
    if (typeof entry.project === "string") {
      const namespace = entry.project.split("/").slice(0, -1).join("/");
      lock.projects[entry.project] = { id: fakeId(entry.project), namespaceId: fakeId(namespace, 1) };
    }
    if (typeof entry.group === "string") {
      lock.groups[entry.group] = {
        id: fakeId(entry.group, 1),
        descendantIds: descendants[entry.group] ?? [],
      };
    }
  }
  return lock;
}

function rawOfYaml(text: string): RawConfig {
  try {
    const raw: unknown = parseYaml(text);
    return raw && typeof raw === "object" ? (raw as RawConfig) : {};
  } catch {
    return {};
  }
}

/** Parses a raw config with `lock` (default: lockFor(raw), every path resolved). */
export function parse(raw: RawConfig, lock: GitLabLock = lockFor(raw)): Config {
  return parseConfig(stringify(raw), "test.yaml", lock);
}

/** The props of an AccountStack for the first account of `raw`, parsed. */
export function accountStackProps(raw: RawConfig = minimalConfig()) {
  const config = parse(raw);
  return {
    gitlab: config.gitlab,
    state: config.state,
    limits: config.limits,
    account: config.accounts[0],
    ...(config.lock ? { lock: config.lock } : {}),
  };
}

/** The problems a config is refused for, one formatted line each; [] when it is accepted. */
export function problemsOf(rawOrYaml: RawConfig | string, lock?: GitLabLock): string[] {
  try {
    parseConfig(
      typeof rawOrYaml === "string" ? rawOrYaml : stringify(rawOrYaml),
      "test.yaml",
      lock ?? lockFor(typeof rawOrYaml === "string" ? rawOfYaml(rawOrYaml) : rawOrYaml),
    );
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
