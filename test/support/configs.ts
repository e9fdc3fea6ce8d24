/** Configs for tests: a minimal valid one to vary, and helpers to parse, synthesize and read them back. */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, relative, sep } from "node:path";
import { load as loadYaml } from "js-yaml";
import { stringify } from "yaml";
import { parseConfig } from "../../src/config/load";
import { ConfigError } from "../../src/config/rules";
import type { Config } from "../../src/config/schema";
import type { GitLabLock } from "../../src/gitlab/lock";
import { deployAudience } from "../../src/pipeline/stack-jobs";
import type { SynthesizedStack } from "../../src/terraform/synthesized-stacks";

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

/**
 * The raw config with a deployer role added to every account, accepting the audience of the account's
 * generated deploy job, as the config rules require wherever the synth generates deploy jobs.
 */
export function withDeployers(raw: RawConfig): RawConfig {
  const accounts = (raw.accounts as RawConfig[]).map((account) => ({
    ...account,
    roles: [
      ...((account.roles as unknown[] | undefined) ?? []),
      {
        name: "deployer",
        audience: deployAudience(account.name as string),
        allow: [{ project: "acme/platform/oidc", branches: ["main"] }],
      },
    ],
  }));
  return { ...raw, accounts };
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
        // Own keys only: a group may be named `constructor` or `toString`.
        descendantIds: Object.hasOwn(descendants, entry.group) ? descendants[entry.group]! : [],
      };
    }
  }
  return lock;
}

function rawOfYaml(text: string): RawConfig {
  try {
    // For the lock only (the paths it must resolve): js-yaml reads the tests' configs as yaml does, in a
    // fraction of the time on the hostile ones (50,000 brackets), and refuses those alike.
    const raw: unknown = loadYaml(text);
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

/**
 * The problems a config is refused for, one formatted line each; [] when it is accepted. Only a
 * ConfigError means "refused": any other exception (a TypeError in a rule) is a bug and fails the test.
 */
export function problemsOf(rawOrYaml: RawConfig | string, lock?: GitLabLock): string[] {
  try {
    parseConfig(
      typeof rawOrYaml === "string" ? rawOrYaml : stringify(rawOrYaml),
      "test.yaml",
      lock ?? lockFor(typeof rawOrYaml === "string" ? rawOfYaml(rawOrYaml) : rawOrYaml),
    );
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
  sources?: Readonly<Record<string, string>>,
): Promise<{ dir: string; stacks: SynthesizedStack[]; cleanup: () => void }> {
  const root = mkdtempSync(join(tmpdir(), "gitlab-oidc-test-"));
  const dir = join(root, "out");
  // Loaded on first use: cdktf and the provider classes cost a second or more per test file (the stacks'
  // reader too: it loads cdktf, through src/terraform/literal.ts).
  const { synthesize } = await import("../../src/synth");
  const { readSynthesizedStacks } = await import("../../src/terraform/synthesized-stacks");
  synthesize(config, { outdir: dir, hcl, ...(sources ? { sources } : {}) });
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

/**
 * Whether a path under the synth's output directory is one of Terraform's own working files, which
 * `terraform init/plan/apply` in a stack directory writes (docs/deploying.md, the pipeline's plan jobs):
 * `.terraform/`, the provider lock file, plans, state, and the plan jobs' plan.txt/plan.json. The synth
 * never writes them, so whether they exist is not its business. The lock file may be committed (it pins
 * provider checksums); it is still not the synth's.
 */
export function isTerraformWorkingFile(path: string): boolean {
  const parts = path.split(sep);
  const name = basename(path);
  return (
    parts.slice(0, -1).includes(".terraform") ||
    name === ".terraform.lock.hcl" ||
    name === ".terraform.tfstate.lock.info" ||
    /\.(tfplan|tfstate|tfstate\.backup)$/.test(name) ||
    (parts.length === 3 && parts[0] === "stacks" && (name === "plan.txt" || name === "plan.json"))
  );
}

/** The files below a synth output directory that the synth is answerable for: all but Terraform's own. */
export function synthFilesUnder(dir: string): string[] {
  return filesUnder(dir).filter((file) => !isTerraformWorkingFile(file));
}

/** What `terraform init`, `plan` and `apply` and the plan jobs leave in a stack directory. */
export const TERRAFORM_WORKING_FILES = [
  ".terraform/providers/registry.terraform.io/hashicorp/aws/5.0.0/linux_amd64/terraform-provider-aws",
  ".terraform/terraform.tfstate",
  ".terraform.lock.hcl",
  ".terraform.tfstate.lock.info",
  "plan.tfplan",
  "plan.txt",
  "plan.json",
  "terraform.tfstate",
  "terraform.tfstate.backup",
];

/** Writes TERRAFORM_WORKING_FILES into a stack directory, as if Terraform had run there. */
export function addTerraformWorkingFiles(stackDir: string): void {
  for (const file of TERRAFORM_WORKING_FILES) {
    mkdirSync(dirname(join(stackDir, file)), { recursive: true });
    writeFileSync(join(stackDir, file), "from terraform\n");
  }
}
