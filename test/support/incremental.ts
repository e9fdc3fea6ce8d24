/**
 * Random edits of a generated config, and the check that an incremental synth (reusing what an earlier
 * synth recorded) writes exactly what a full synth of the same config writes.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generatedConfigData, generateLock } from "../../bench/generate";
import { ConfigError } from "../../src/config/rules";
import type { Config } from "../../src/config/schema";
import { parseLock, type GitLabLock } from "../../src/gitlab/lock";
import { committedHcl } from "../../src/terraform/formatted-hcl";
import { IamPolicy } from "@cdktf/provider-aws/lib/iam-policy";
import { defineExtension, type Extension } from "../../src/extension";
import { STATE_STACK } from "../../src/model/state-access";
import { deployAudience } from "../../src/pipeline/stack-jobs";
import { buildApp, synthesize, WRITTEN_FILES_RECORD, type SynthResult } from "../../src/synth";
import { generatedFiles } from "../../src/generated-files";
import { AccountStack } from "../../stacks/account-stack";
import { filesUnder, parse, type RawConfig } from "./configs";

/** A generated config (bench/generate.ts) as raw data, and its lock. */
export function generated(accounts: number, roles: number): { raw: RawConfig; lock: GitLabLock } {
  return {
    raw: generatedConfigData(accounts, roles) as RawConfig,
    lock: parseLock(generateLock(accounts, roles), "generated.lock.yaml"),
  };
}

/** The same seed gives the same edits on every run (./seeded.ts). */
export { seeded } from "./seeded";

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

/** Path → content of every file below `dir` but the record of written files (the same in every run). */
export function outputOf(dir: string): Record<string, string> {
  const tree = treeOf(dir);
  delete tree[WRITTEN_FILES_RECORD];
  return tree;
}

/** Path → content of every file below `dir`. */
export function treeOf(dir: string): Record<string, string> {
  return Object.fromEntries(filesUnder(dir).map((file) => [file, readFileSync(join(dir, file), "utf8")]));
}

/** A full synth (no record) into a fresh directory: its files, and the directory removed again. */
export function fullSynthTree(config: Config, hcl = true, extension?: Extension): Record<string, string> {
  const root = mkdtempSync(join(tmpdir(), "gitlab-oidc-full-"));
  try {
    synthesize(config, { outdir: join(root, "out"), hcl, ...(extension ? { extension } : {}) });
    return treeOf(join(root, "out"));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/**
 * The output as the synth wrote it before stacks were synthesized one App each and before their parts of
 * ACCESS.md were kept: one App with every stack, App.synth(), each cdk.tf formatted, and the generated
 * files rendered afresh from the stacks' models. The synth, incremental or not, must write the same bytes.
 */
export function wholeAppStackTree(config: Config, extension?: Extension): Record<string, string> {
  const root = mkdtempSync(join(tmpdir(), "gitlab-oidc-whole-"));
  try {
    const app = buildApp(config, root, true, extension);
    app.synth();
    const tree = treeOf(root);
    for (const file of Object.keys(tree).filter((f) => f.endsWith("cdk.tf"))) {
      tree[file] = committedHcl(tree[file]);
      writeFileSync(join(root, file), tree[file]);
    }
    const models = app.node.children.flatMap((child) =>
      child instanceof AccountStack ? [child.synthesized] : [],
    );
    return { ...tree, ...generatedFiles(config, models) };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** Synthesizes with a record in `cacheDir`, into `outdir`. */
export function incrementalSynth(
  config: Config,
  outdir: string,
  cacheDir: string,
  extension?: Extension,
): SynthResult {
  return synthesize(config, { outdir, hcl: true, cacheDir, ...(extension ? { extension } : {}) });
}

/**
 * An extension as a team writes one (test/fixtures/extension): a policy in every account stack, named
 * after a value the test can change, so that editing the "extension" changes the output.
 */
export function policyExtension(version: string): Extension {
  return defineExtension({
    accountStack(stack, { account }) {
      new IamPolicy(stack, "team-boundary", {
        name: `team-boundary-${version}`,
        policy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            { Effect: "Allow", Action: ["s3:GetObject"], Resource: `arn:aws:s3:::${account.name}/*` },
          ],
        }),
      });
    },
  });
}

interface PipelineAccount extends Account {
  accountId: string;
  deployRoleArn?: string;
  pipeline: { planner: string; deployer: string };
  roles: (Account["roles"][number] & { audience?: string; path?: string })[];
}

/**
 * `raw` with its state in S3 (the bucket in the first account) and pipeline roles in every account: the
 * first role plans, the second (accepting the account's deploy audience) deploys.
 */
export function withS3State(raw: RawConfig): RawConfig {
  const accounts = raw.accounts as PipelineAccount[];
  for (const account of accounts) usePipelineRoles(account);
  raw.state = {
    type: "s3",
    bucket: "acme-gitlab-oidc-state",
    region: "eu-west-1",
    account: accounts[0].name,
    breakGlassRoleArn: `arn:aws:iam::${accounts[0].accountId}:role/break-glass`,
  };
  return raw;
}

function usePipelineRoles(account: PipelineAccount): void {
  account.pipeline = { planner: account.roles[0].name, deployer: account.roles[1].name };
  account.roles[1].audience = deployAudience(account.name);
}

/** How many kinds of edit randomStateEdit makes. */
export const STATE_EDIT_KINDS = 8;

/**
 * One edit of a config with state in S3 (withS3State): `stacks` lists every stack that must be
 * synthesized again when the edit is confined: the state bucket's stack too whenever a planner's or a
 * writer's ARN changes, or anything in the bucket's own account (its stack is built from that account).
 */
export function randomStateEdit(
  raw: RawConfig,
  random: (n: number) => number,
  kind = random(STATE_EDIT_KINDS),
): Edit & { readonly stacks?: readonly string[] } {
  const accounts = raw.accounts as PipelineAccount[];
  const account = accounts[random(accounts.length)];
  const state = raw.state as Record<string, unknown>;
  const { planner, deployer } = account.pipeline;
  // Roles the bucket policy does not name.
  const others = account.roles.filter((role) => role.name !== planner && role.name !== deployer);
  const other = others[random(others.length)];
  const confined = (what: string, policyChanges: boolean) => ({
    what,
    stacks: policyChanges || account.name === state.account ? [account.name, STATE_STACK] : [account.name],
  });
  switch (kind) {
    case 0: {
      other.allow[0].branches = [...(other.allow[0].branches ?? []), `feature-${random(1000)}`];
      return confined(`a branch on ${account.name}/${other.name}`, false);
    }
    case 1: {
      const role = account.roles.find((r) => r.name === deployer)!;
      role.path = `/gitlab/moved-${random(1000)}/`;
      // With deployRoleArn, that role writes the state, not the deployer.
      return confined(`${account.name}'s deployer moved (its ARN)`, account.deployRoleArn === undefined);
    }
    case 2: {
      if (account.deployRoleArn) delete account.deployRoleArn;
      else account.deployRoleArn = `arn:aws:iam::${account.accountId}:role/terraform-apply-${random(1000)}`;
      return confined(`${account.name}'s deployRoleArn toggled`, true);
    }
    case 3: {
      account.pipeline = { ...account.pipeline, planner: other.name };
      return confined(`${account.name}'s planner is now ${other.name}`, true);
    }
    case 4: {
      state.keyPrefix = `prefix-${random(1000)}/`;
      return { what: "state.keyPrefix (every stack)" };
    }
    case 5: {
      if (state.kmsKeyArn) delete state.kmsKeyArn;
      else
        state.kmsKeyArn = `arn:aws:kms:eu-west-1:${accounts[0].accountId}:key/${"0".repeat(7)}${random(10)}-0000-0000-0000-000000000000`;
      return { what: "state.kmsKeyArn toggled (every stack)" };
    }
    case 6: {
      const copy = structuredClone(account);
      copy.name = `${account.name}-copy-${random(1000)}`;
      copy.accountId = String(900_000_000_000 + random(1_000_000));
      delete copy.deployRoleArn;
      usePipelineRoles(copy);
      accounts.push(copy);
      return { what: `account ${copy.name} added` };
    }
    default: {
      // Any account but the bucket's.
      const others = accounts.filter((a) => a.name !== state.account);
      if (others.length === 0) return { what: "nothing" };
      const removed = others[random(others.length)];
      accounts.splice(accounts.indexOf(removed), 1);
      return { what: `account ${removed.name} removed` };
    }
  }
}
