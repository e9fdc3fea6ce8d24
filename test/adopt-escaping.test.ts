/**
 * Adoption's import blocks carry hostile values as literals: with validation switched off (the
 * constructs' rules mocked to accept everything, as in test/writer-escaping.test.ts), a managed policy ARN
 * and an inline policy name that try to close the string, interpolate or add a block reach Terraform as
 * the literal import IDs and instance key, in HCL and in JSON, and the model read back equals what the
 * stack describes.
 */
import { parse as parseHcl } from "@cdktf/hcl2json";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Config } from "../src/config/schema";
import { buildApp, synthesize } from "../src/synth";
import { fromTemplate } from "../src/terraform/literal";
import { readStackConfiguration } from "../src/terraform/synthesized-stacks";
import { AccountStack } from "../stacks/account-stack";
import { TERRAFORM, testWithTool } from "./support/tools";
import { minimalConfig, parse } from "./support/configs";

jest.mock("../src/config/rules", () => {
  const actual = jest.requireActual<typeof import("../src/config/rules")>("../src/config/rules");
  return { ...actual, checkRole: () => [], checkAccountFields: () => [], checkAudienceList: () => [] };
});

const ARN =
  'arn:aws:iam::aws:policy/"\\${file("/etc/passwd")}%{ if true }x%{ endif }"\n}\nresource "x" "y" {/P';
const POLICY = 'p"${x}\n}';

function hostileAdoption(): Config {
  const config = parse(minimalConfig());
  const account = config.accounts[0];
  const document = {
    Version: "2012-10-17" as const,
    Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: "*" }],
  };
  return {
    ...config,
    accounts: [
      {
        ...account,
        adopt: true,
        roles: [{ ...account.roles[0], managedPolicyArns: [ARN], inlinePolicies: { [POLICY]: document } }],
      },
    ],
  };
}

type Block = Record<string, unknown>;

describe.each([
  ["HCL (cdk.tf)", true],
  ["JSON (cdk.tf.json)", false],
])("adoption in %s, given hostile values that got past validation", (_format, hcl) => {
  let root: string;
  let tf: Block;
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), "gitlab-oidc-adopt-hostile-"));
    synthesize(hostileAdoption(), { outdir: join(root, "out"), hcl });
    const file = join(root, "out", "stacks", "production", hcl ? "cdk.tf" : "cdk.tf.json");
    source = readFileSync(file, "utf8");
    tf = hcl ? ((await parseHcl(file, source)) as Block) : (JSON.parse(source) as Block);
  });
  let source: string;
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  if (hcl)
    testWithTool(TERRAFORM, "terraform itself parses the file (terraform fmt -)", () => {
      const result = spawnSync("terraform", ["fmt", "-"], {
        input: source,
        encoding: "utf8",
        env: { ...process.env, TF_CLI_CONFIG_FILE: "/dev/null", CHECKPOINT_DISABLE: "1" },
      });
      expect(result.stderr).not.toMatch(/Error/);
      expect(result.status).toBe(0);
    });

  test("the import IDs are the literal values, and no block is added", () => {
    const ids = (tf.import as { id: string }[]).map((block) => fromTemplate(block.id)).sort();
    expect(ids).toEqual(
      [
        "arn:aws:iam::111111111111:oidc-provider/gitlab.com",
        "deploy",
        "deploy",
        "deploy",
        `deploy/${ARN}`,
        `deploy:${POLICY}`,
      ].sort(),
    );
    expect(Object.keys(tf.resource as Block).sort()).toEqual([
      "aws_iam_openid_connect_provider",
      "aws_iam_role",
      "aws_iam_role_policies_exclusive",
      "aws_iam_role_policy",
      "aws_iam_role_policy_attachment",
      "aws_iam_role_policy_attachments_exclusive",
    ]);
  });

  test("the model read back (imports, exclusive lists) equals what the stack describes", () => {
    const stack = buildApp(hostileAdoption(), join(root, "memory"), hcl).node.children.find(
      (child) => child instanceof AccountStack,
    ) as AccountStack;
    const read = readStackConfiguration("production", tf);
    expect(read.roles[0].exclusivePolicyArns).toEqual([ARN]);
    expect(read.roles[0].exclusiveInlinePolicyNames).toEqual([POLICY]);
    expect(read.roles[0].imports).toEqual(stack.synthesized.roles[0].imports);
    expect(read.providerImport).toEqual(stack.synthesized.providerImport);
  });
});
