/**
 * TEST SUPPORT for adoption planned with the real AWS provider (test/slow/adopt-plan.test.ts; the conversion
 * alone: test/audit-to-config.test.ts): the live account's hand-made role, `--to-config` conversion read
 * by the loader, and one terraform working directory per test file (init once: the provider is large)
 * planning each config offline against the IAM stand-in (test/support/iam-stand-in.ts).
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { auditText, toConfig } from "../../src/audit/audit";
import { parseConfig } from "../../src/config/load";
import type { Config } from "../../src/config/schema";
import { synthesize } from "../../src/synth";
import { startIamStandIn, type LiveAccount, type IamStandIn } from "./iam-stand-in";
import { runAsync, run } from "./run";
import { awsProviderPluginDir, testWithOfflineAwsProvider } from "./tools";

const ROOT = join(__dirname, "..", "..");
const FIXTURES = join(ROOT, "test", "fixtures", "audit");
export const fixture = (file: string) => readFileSync(join(FIXTURES, file), "utf8");

const PLUGIN_DIR = awsProviderPluginDir();
/** A test that plans with terraform and the AWS provider offline; a loud skip where either is missing. */
export function testWithPlan(name: string, fn: () => Promise<void>): void {
  testWithOfflineAwsProvider(name, fn, 240_000);
}

export const POWER_USER = "arn:aws:iam::aws:policy/PowerUserAccess";
export const ASSETS = {
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::acme-assets/*" }],
};
/** The live account: the hand-made role and the gitlab.com provider it trusts. */
export const LIVE: LiveAccount = {
  accountId: "111111111111",
  roles: [
    {
      name: "production-deploy",
      description: "Made by hand in the console",
      trustPolicy: JSON.parse(fixture("get-role-production-deploy.json")).Role.AssumeRolePolicyDocument,
      managedPolicyArns: [POWER_USER],
      inlinePolicies: { assets: ASSETS },
    },
  ],
  providers: [{ url: "gitlab.com", clientIds: ["https://gitlab.com"] }],
};

export interface ResourceChange {
  address: string;
  type: string;
  change: {
    actions: string[];
    before: Record<string, unknown> | null;
    after: Record<string, unknown> | null;
    importing?: { id: string };
  };
}

/** The config `--to-config` prints for the input, read by the loader (the synth's own validation). */
export function converted(input: string, policies: string[] = []): { config: Config; yaml: string } {
  const result = auditText(fixture(input), input, {
    policies: policies.map((file) => ({ text: fixture(file), file })),
  });
  const output = toConfig(result, input);
  expect(output.refused).toEqual([]);
  const documents = parseAllDocuments(output.yaml).map((doc) => doc.toString());
  expect(documents).toHaveLength(1);
  return { config: parseConfig(documents[0], input, output.lock), yaml: documents[0] };
}

/**
 * One terraform working directory for every plan (init once: the provider is large and the machine
 * shared), one stand-in for the live account. Each plan synthesizes its config and replaces cdk.tf.
 */
interface Workspace {
  readonly dir: string;
  readonly standIn: IamStandIn;
  readonly env: NodeJS.ProcessEnv;
}
let workspace: Workspace | undefined;

async function terraform(args: string[]): Promise<string> {
  const { dir, env } = workspace!;
  const ran = await runAsync("terraform", args, { cwd: dir, env, timeoutMs: 100_000 });
  if (ran.status !== 0) throw new Error(`terraform ${args[0]} failed:\n${ran.stdout}\n${ran.stderr}`);
  return ran.stdout;
}

async function openWorkspace(): Promise<Workspace> {
  const dir = mkdtempSync(join(tmpdir(), "gitlab-oidc-adopt-plan-"));
  const standIn = await startIamStandIn(LIVE);
  workspace = {
    dir,
    standIn,
    env: {
      ...process.env,
      TF_CLI_CONFIG_FILE: "/dev/null",
      CHECKPOINT_DISABLE: "1",
      TF_IN_AUTOMATION: "1",
      AWS_EC2_METADATA_DISABLED: "true",
    },
  };
  // The stacks pin the bindings' provider version; here the plugin directory's, a local backend, no
  // AWS account checks, and IAM (and STS, never called) at the stand-in.
  writeFileSync(
    join(dir, "zz_override.tf"),
    `terraform {
  required_providers {
    aws = { source = "hashicorp/aws", version = "5.100.0" }
  }
  backend "local" {}
}
provider "aws" {
  access_key                  = "AKIASTANDIN"
  secret_key                  = "stand-in"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  allowed_account_ids         = null
  endpoints {
    iam = "${standIn.endpoint}"
    sts = "${standIn.endpoint}"
  }
}
`,
  );
  writeFileSync(
    join(dir, "cdk.tf"),
    'terraform {\n  required_providers {\n    aws = { source = "aws" }\n  }\n}\n',
  );
  await terraform(["init", "-input=false", `-plugin-dir=${PLUGIN_DIR}`]);
  return workspace;
}

/** Synthesizes `config`, plans it offline against the stand-in, and returns the parsed plan and the MR summary. */
export async function plan(config: Config) {
  const { dir } = workspace ?? (await openWorkspace());
  const out = mkdtempSync(join(tmpdir(), "gitlab-oidc-adopt-synth-"));
  try {
    synthesize(config, { outdir: out, hcl: true });
    copyFileSync(join(out, "stacks", config.accounts[0].name, "cdk.tf"), join(dir, "cdk.tf"));
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
  await terraform(["plan", "-input=false", "-lock=false", "-refresh=false", "-out=plan.tfplan"]);
  const show = await terraform(["show", "-json", "plan.tfplan"]);
  const summary = run("sh", [join(ROOT, "src/pipeline/plan-summary.sh")], { input: show, timeoutMs: 10_000 });
  expect(summary.status).toBe(0);
  const changes = (
    (JSON.parse(show) as { resource_changes?: ResourceChange[] }).resource_changes ?? []
  ).filter((c) => !c.address.startsWith("data."));
  return { changes, summary: JSON.parse(summary.stdout) as Record<string, number> };
}

/** Closes the stand-in and removes the working directory: call from the test file's afterAll. */
export async function closeWorkspace(): Promise<void> {
  await workspace?.standIn.close();
  if (workspace) rmSync(workspace.dir, { recursive: true, force: true });
  workspace = undefined;
}

export const byAddress = (changes: ResourceChange[]) =>
  Object.fromEntries(changes.map((c) => [c.address, c]));
export const listOf = (value: Record<string, unknown> | null, key: string) =>
  (value?.[key] ?? []) as string[];

/** Nothing the live role had is detached or deleted, and nothing adopted is created, replaced or destroyed. */
export function expectNothingRemoved(changes: ResourceChange[], adopted: string[]) {
  for (const change of changes) {
    expect({ address: change.address, actions: change.change.actions }).toEqual({
      address: change.address,
      actions: expect.not.arrayContaining(["delete"]),
    });
    if (/_exclusive$/.test(change.type)) {
      const key =
        change.type === "aws_iam_role_policy_attachments_exclusive" ? "policy_arns" : "policy_names";
      const after = listOf(change.change.after, key);
      expect(listOf(change.change.before, key).filter((item) => !after.includes(item))).toEqual([]);
    }
  }
  for (const address of adopted) {
    const change = byAddress(changes)[address];
    expect(change?.change.importing).toBeDefined();
    expect(change.change.actions).not.toContain("create");
  }
}

export const ADOPTED_ROLE = [
  "aws_iam_role.production-deploy",
  'aws_iam_role_policy_attachment.production-deploy["arn:aws:iam::aws:policy/PowerUserAccess"]',
  "aws_iam_role_policy.production-deploy_assets",
  "aws_iam_role_policy_attachments_exclusive.production-deploy",
  "aws_iam_role_policies_exclusive.production-deploy",
];
