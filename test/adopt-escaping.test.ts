/**
 * Adoption's import blocks carry hostile values as literals: with validation switched off (the
 * constructs' rules mocked to accept everything, as in test/writer-escaping.test.ts), a managed policy ARN
 * and an inline policy name that try to close the string, interpolate or add a block reach Terraform as
 * the literal import IDs and instance key, in HCL and in JSON, and the model read back equals what the
 * stack describes.
 */
import { parse as parseHcl } from "@cdktf/hcl2json";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildApp, synthesize } from "../src/synth";
import { fromTemplate } from "../src/terraform/literal";
import { readStackConfiguration } from "../src/terraform/synthesized-stacks";
import { AccountStack } from "../stacks/account-stack";
import { ADOPTED_ARN as ARN, ADOPTED_POLICY as POLICY, hostileAdoption } from "./support/hostile-writer";

jest.mock("../src/config/rules", () =>
  (
    jest.requireActual("./support/unchecked-rules") as typeof import("./support/unchecked-rules")
  ).uncheckedRules(),
);

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

  // terraform itself reads the same file in test/e2e/terraform-reads-hostile.test.ts (HCL's own parser
  // reads it above, in process).

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
