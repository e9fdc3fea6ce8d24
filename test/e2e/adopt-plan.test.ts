/**
 * Adoption without surprises, planned with the real AWS provider: an existing hand-made role (with a
 * managed policy and an inline one) is converted by `npm run audit -- --to-config`, synthesized, and
 * planned offline against an IAM stand-in holding the live role (test/support/iam-stand-in.ts). The
 * plan is parsed: every object is imported, nothing the role had is detached or deleted, and the only
 * changes are the trust policy and tags. A config that says `managedPolicyArns: []` on purpose shows
 * the detachment as a removal in the plan summary. The single-role (provider looked up) and mixed
 * (adopted + new roles) cases plan as docs/adopting.md says.
 *
 * Needs terraform and the AWS provider 5.100.0 in a plugin directory (FACTS: /opt/tf-plugins); where
 * either is missing the terraform tests are skipped, naming why.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { auditText, toConfig } from "../../src/audit/audit";
import { parseConfig } from "../../src/config/load";
import type { Config } from "../../src/config/schema";
import { synthesize } from "../../src/synth";
import { startIamStandIn, type LiveAccount, type IamStandIn } from "../support/iam-stand-in";
import { runAsync, run } from "../support/run";
import { awsProviderPluginDir, testWithOfflineAwsProvider } from "../support/tools";

const ROOT = join(__dirname, "..", "..");
const FIXTURES = join(ROOT, "test", "fixtures", "audit");
const fixture = (file: string) => readFileSync(join(FIXTURES, file), "utf8");

const PLUGIN_DIR = awsProviderPluginDir();
/** A test that plans with terraform and the AWS provider offline; a loud skip where either is missing. */
function testWithPlan(name: string, fn: () => Promise<void>): void {
  testWithOfflineAwsProvider(name, fn, 240_000);
}

const POWER_USER = "arn:aws:iam::aws:policy/PowerUserAccess";
const ASSETS = {
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::acme-assets/*" }],
};
/** The live account: the hand-made role and the gitlab.com provider it trusts. */
const LIVE: LiveAccount = {
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

interface ResourceChange {
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
function converted(input: string, policies: string[] = []): { config: Config; yaml: string } {
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
async function plan(config: Config) {
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

afterAll(async () => {
  await workspace?.standIn.close();
  if (workspace) rmSync(workspace.dir, { recursive: true, force: true });
});

const byAddress = (changes: ResourceChange[]) => Object.fromEntries(changes.map((c) => [c.address, c]));
const listOf = (value: Record<string, unknown> | null, key: string) => (value?.[key] ?? []) as string[];

/** Nothing the live role had is detached or deleted, and nothing adopted is created, replaced or destroyed. */
function expectNothingRemoved(changes: ResourceChange[], adopted: string[]) {
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

const ADOPTED_ROLE = [
  "aws_iam_role.production-deploy",
  'aws_iam_role_policy_attachment.production-deploy["arn:aws:iam::aws:policy/PowerUserAccess"]',
  "aws_iam_role_policy.production-deploy_assets",
  "aws_iam_role_policy_attachments_exclusive.production-deploy",
  "aws_iam_role_policies_exclusive.production-deploy",
];

describe("adopting a hand-made role, planned with the real AWS provider against an IAM stand-in", () => {
  test("from get-role alone the policies are unknown: --to-config says so and the synth refuses the role", () => {
    // GIVEN get-role output (which lists no policies), converted
    const result = auditText(fixture("get-role-production-deploy.json"), "role.json");
    const output = toConfig(result, "role.json");
    // THEN the output writes unknown for both, and the loader refuses it naming the role and what to run
    expect(output.yaml).toMatch(/^ +managedPolicyArns: unknown$/m);
    expect(output.yaml).toMatch(/^ +inlinePolicies: unknown$/m);
    expect(output.unknownPolicies).toEqual(["production-deploy"]);
    expect(() => parseConfig(output.yaml, "role.yaml", output.lock)).toThrow(
      /managedPolicyArns: unknown: .*"production-deploy".*list-attached-role-policies --role-name production-deploy/,
    );
  });

  testWithPlan(
    "from get-account-authorization-details: imports plus trust and tag changes only; nothing detached or deleted",
    async () => {
      // GIVEN the account's authorization details, converted
      const { config } = converted("account-production-deploy.json");
      // WHEN planned against the live account
      const { changes, summary } = await plan(config);
      // THEN every object is imported; the provider and policies are untouched; the role is updated in place
      expectNothingRemoved(changes, [...ADOPTED_ROLE, "aws_iam_openid_connect_provider.gitlab"]);
      const actions = Object.fromEntries(changes.map((c) => [c.address, c.change.actions.join()]));
      expect(actions).toEqual({
        "aws_iam_openid_connect_provider.gitlab": "update", // the managed-by tag
        "aws_iam_role.production-deploy": "update", // the trust policy (and the managed-by tag)
        'aws_iam_role_policy_attachment.production-deploy["arn:aws:iam::aws:policy/PowerUserAccess"]':
          "no-op",
        "aws_iam_role_policy.production-deploy_assets": "no-op",
        "aws_iam_role_policy_attachments_exclusive.production-deploy": "no-op",
        "aws_iam_role_policies_exclusive.production-deploy": "no-op",
      });
      expect(summary).toEqual({ create: 0, update: 2, delete: 0 });
    },
  );

  test("from get-role with --policies beside it: the same role as from the authorization details", () => {
    // GIVEN get-role output and, beside it, what list-attached-role-policies, list-role-policies and
    // get-role-policy print; WHEN converted; THEN the role equals the one the authorization details give
    // (get-role also shows the description), so its plan is the one above
    const { config } = converted("get-role-production-deploy.json", [
      "list-attached-role-policies-production-deploy.json",
      "list-role-policies-production-deploy.json",
      "get-role-policy-production-deploy-assets.json",
    ]);
    const fromDetails = converted("account-production-deploy.json").config;
    const { description, ...role } = config.accounts[0].roles[0];
    expect(description).toBe("Made by hand in the console");
    expect(role).toEqual(fromDetails.accounts[0].roles[0]);
    expect(role.managedPolicyArns).toEqual([POWER_USER]);
    expect(role.inlinePolicies).toEqual({ assets: ASSETS });
  });

  testWithPlan(
    "managedPolicyArns: [] and inlinePolicies: {} on purpose: the plan detaches and deletes, and the summary counts deletes",
    async () => {
      // GIVEN the get-role conversion, with the unknown policies replaced by "none" on purpose
      const result = auditText(fixture("get-role-production-deploy.json"), "role.json");
      const output = toConfig(result, "role.json");
      const text = output.yaml
        .replace(/^( +)managedPolicyArns: unknown$/m, "$1managedPolicyArns: []")
        .replace(/^( +)inlinePolicies: unknown$/m, "$1inlinePolicies: {}");
      const config = parseConfig(text, "role.yaml", output.lock);
      // WHEN planned against the live role, which has PowerUserAccess and an inline policy
      const { changes, summary } = await plan(config);
      // THEN the exclusive resources drop them, and the summary shows two deletes, not two updates
      const exclusive = byAddress(changes)["aws_iam_role_policy_attachments_exclusive.production-deploy"];
      expect(listOf(exclusive.change.before, "policy_arns")).toEqual([POWER_USER]);
      expect(listOf(exclusive.change.after, "policy_arns")).toEqual([]);
      expect(exclusive.change.actions).toEqual(["update"]);
      expect(summary.delete).toBe(2);
    },
  );

  testWithPlan(
    "one role into an account whose provider exists (provider: existing), a new role beside it: import one, create one",
    async () => {
      // GIVEN the documented single-role recipe: provider looked up, the role adopted, a new role not
      const config = parseConfig(
        `gitlab: { url: "https://gitlab.com", audience: "https://gitlab.com" }
accounts:
  - name: production
    accountId: "111111111111"
    region: eu-west-1
    provider: existing
    roles:
      - name: production-deploy
        adopt: true
        pinIds: false
        managedPolicyArns: ["${POWER_USER}"]
        inlinePolicies:
          assets: ${JSON.stringify(ASSETS)}
        allow: [{ project: acme/web, branches: [main], protected: false }]
      - name: fresh
        pinIds: false
        allow: [{ project: acme/api, branches: [main], protected: false }]
`,
        "single.yaml",
      );
      const { changes, summary } = await plan(config);
      // THEN the adopted role is imported with nothing removed, the new one created, no provider resource
      expectNothingRemoved(changes, ADOPTED_ROLE);
      const created = changes.filter((c) => c.change.actions.includes("create")).map((c) => c.address);
      expect(created.sort()).toEqual([
        "aws_iam_role.fresh",
        "aws_iam_role_policies_exclusive.fresh",
        "aws_iam_role_policy_attachments_exclusive.fresh",
      ]);
      expect(changes.map((c) => c.type)).not.toContain("aws_iam_openid_connect_provider");
      expect(summary).toEqual({ create: 3, update: 1, delete: 0 });
    },
  );

  testWithPlan(
    "mixed: the account adopted (provider imported), a new role marked adopt: false is created",
    async () => {
      const { yaml } = converted("account-production-deploy.json");
      const mixed = yaml.replace(
        /^ {4}roles:\n/m,
        "    roles:\n      - name: fresh\n        adopt: false\n        pinIds: false\n        allow: [{ project: acme/api, branches: [main], protected: false }]\n",
      );
      const { changes, summary } = await plan(parseConfig(mixed, "mixed.yaml"));
      expectNothingRemoved(changes, [...ADOPTED_ROLE, "aws_iam_openid_connect_provider.gitlab"]);
      expect(byAddress(changes)["aws_iam_role.fresh"].change.actions).toEqual(["create"]);
      expect(byAddress(changes)["aws_iam_role.fresh"].change.importing).toBeUndefined();
      expect(summary).toEqual({ create: 3, update: 2, delete: 0 });
    },
  );
});
