/**
 * Random edits of a generated config, and the check that an incremental synth (reusing what an earlier
 * synth recorded) writes exactly what a full synth of the same config writes.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { generateConfig, generateLock } from "../../bench/generate";
import { ConfigError } from "../../src/config/rules";
import type { Config } from "../../src/config/schema";
import { parseLock, type GitLabLock } from "../../src/gitlab/lock";
import { formatHcl } from "../../src/terraform/format-hcl";
import { unwrapInterpolationOnlyStrings } from "../../src/terraform/unwrap-interpolations";
import { buildApp, synthesize, type SynthResult } from "../../src/synth";
import { filesUnder, parse, type RawConfig } from "./configs";

/** A generated config (bench/generate.ts) as raw data, and its lock. */
export function generated(accounts: number, roles: number): { raw: RawConfig; lock: GitLabLock } {
  return {
    raw: parseYaml(generateConfig(accounts, roles)) as RawConfig,
    lock: parseLock(generateLock(accounts, roles), "generated.lock.yaml"),
  };
}

/** A seeded pseudo-random generator (mulberry32): the same seed gives the same edits on every run. */
export function seeded(seed: number): (n: number) => number {
  let state = seed >>> 0;
  return (n) => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
}

interface Account {
  name: string;
  region: string;
  tags?: Record<string, string>;
  roles: { name: string; allow: { project?: string; group?: string; branches?: string[] }[] }[];
}

/** An edit: what it changes, and how many accounts it should leave untouched (undefined: any). */
export interface Edit {
  readonly what: string;
  /** Accounts whose stack must be synthesized again; undefined when the edit touches all or is structural. */
  readonly touches?: string;
}

/** How many kinds of edit randomEdit makes. */
export const EDIT_KINDS = 9;

/** Applies one edit of `kind` (0 ≤ kind < EDIT_KINDS) at a random place to `raw` and `lock`, in place. */
export function randomEdit(
  raw: RawConfig,
  lock: GitLabLock,
  random: (n: number) => number,
  kind = random(EDIT_KINDS),
): Edit {
  const accounts = raw.accounts as Account[];
  const account = accounts[random(accounts.length)];
  const role = account.roles[random(account.roles.length)];
  switch (kind) {
    case 0: {
      const grant = role.allow[0];
      grant.branches = [...(grant.branches ?? []), `feature-${random(1000)}`];
      return { what: `a branch on ${account.name}/${role.name}`, touches: account.name };
    }
    case 1: {
      const copy = structuredClone(role);
      copy.name = `${role.name}-copy-${random(1000)}`;
      account.roles.push(copy);
      return { what: `a role added to ${account.name}`, touches: account.name };
    }
    case 2: {
      if (account.roles.length < 2) return { what: "nothing" };
      account.roles.splice(account.roles.indexOf(role), 1);
      return { what: `${account.name}/${role.name} removed`, touches: account.name };
    }
    case 3: {
      account.tags = { ...account.tags, edited: String(random(1000)) };
      return { what: `a tag on ${account.name}`, touches: account.name };
    }
    case 4: {
      // A lock ID only this role's project uses (each generated role has its own project).
      const project = role.allow.find((grant) => grant.project?.includes("/svc-"))?.project;
      if (project === undefined || !Object.hasOwn(lock.projects, project)) return { what: "nothing" };
      const users = accounts.filter((a) => a.roles.some((r) => r.allow.some((g) => g.project === project)));
      lock.projects[project] = { ...lock.projects[project], id: lock.projects[project].id + 1 };
      return { what: `the lock ID of ${project}`, ...(users.length === 1 ? { touches: account.name } : {}) };
    }
    case 5: {
      (raw.gitlab as Record<string, unknown>).audience = `https://aud-${random(1000)}.example`;
      return { what: "the GitLab audience (every stack)" };
    }
    case 6: {
      account.name = `${account.name}-renamed`;
      return { what: `account renamed to ${account.name}` };
    }
    case 7: {
      accounts.reverse();
      return { what: "accounts reordered" };
    }
    default: {
      if (accounts.length < 2) return { what: "nothing" };
      accounts.splice(accounts.indexOf(account), 1);
      return { what: `account ${account.name} removed` };
    }
  }
}

/** Parses a raw config with its lock; undefined when an edit made it invalid. */
export function parsedOrUndefined(raw: RawConfig, lock: GitLabLock): Config | undefined {
  try {
    return parse(raw, lock);
  } catch (error) {
    if (error instanceof ConfigError) return undefined;
    throw error;
  }
}

/** Path → content of every file below `dir`. */
export function treeOf(dir: string): Record<string, string> {
  return Object.fromEntries(filesUnder(dir).map((file) => [file, readFileSync(join(dir, file), "utf8")]));
}

/** A full synth (no record) into a fresh directory: its files, and the directory removed again. */
export function fullSynthTree(config: Config, hcl = true): Record<string, string> {
  const root = mkdtempSync(join(tmpdir(), "gitlab-oidc-full-"));
  try {
    synthesize(config, { outdir: join(root, "out"), hcl });
    return treeOf(join(root, "out"));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/**
 * The stack files as the synth wrote them before accounts were synthesized one App each: one App with
 * every stack, App.synth(), each cdk.tf formatted. The per-account synth must write the same bytes.
 */
export function wholeAppStackTree(config: Config): Record<string, string> {
  const root = mkdtempSync(join(tmpdir(), "gitlab-oidc-whole-"));
  try {
    buildApp(config, root, true).synth();
    const tree = treeOf(root);
    for (const file of Object.keys(tree).filter((f) => f.endsWith("cdk.tf"))) {
      tree[file] = formatHcl(unwrapInterpolationOnlyStrings(tree[file]));
      writeFileSync(join(root, file), tree[file]);
    }
    return tree;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** Synthesizes with a record in `cacheDir`, into `outdir`. */
export function incrementalSynth(config: Config, outdir: string, cacheDir: string): SynthResult {
  return synthesize(config, { outdir, hcl: true, cacheDir });
}
