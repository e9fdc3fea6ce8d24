/**
 * The state permissions as deployed: read back from a synth's HCL (the bucket policy of the
 * gitlab-oidc-state stack, every role's inline policies), for the evaluator matrix and the S3 stand-in.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { IamDocument } from "../../src/model/state-access";
import { roleArn, STATE_STACK } from "../../src/model/state-access";
import { readJsonencode, readSynthesizedStacks } from "../../src/terraform/synthesized-stacks";

export interface DeployedStatePolicies {
  /** The bucket policy, as the HCL sets it. */
  readonly bucketPolicy: IamDocument;
  /** Every role of every stack: its ARN → its inline policies (the generated state ones among them). */
  readonly identityPolicies: ReadonlyMap<string, readonly IamDocument[]>;
  /** Every role's managed policy ARNs, by role ARN. */
  readonly managedPolicies: ReadonlyMap<string, readonly string[]>;
}

export async function deployedStatePolicies(outdir: string): Promise<DeployedStatePolicies> {
  const { parse } = await import("@cdktf/hcl2json");
  const file = join(outdir, "stacks", STATE_STACK, "cdk.tf");
  const tf = (await parse(file, readFileSync(file, "utf8"))) as {
    resource: { aws_s3_bucket_policy: Record<string, [{ policy: string }]> };
  };
  const policy = Object.values(tf.resource.aws_s3_bucket_policy)[0]![0].policy;
  const identityPolicies = new Map<string, IamDocument[]>();
  const managedPolicies = new Map<string, string[]>();
  for (const stack of await readSynthesizedStacks(outdir)) {
    for (const role of stack.roles) {
      const arn = roleArn("aws", stack.accountId!, role.path, role.name);
      identityPolicies.set(arn, Object.values(role.inlinePolicies) as unknown as IamDocument[]);
      managedPolicies.set(arn, [...role.managedPolicyArns]);
    }
  }
  return { bucketPolicy: readJsonencode(policy) as IamDocument, identityPolicies, managedPolicies };
}

/** AWS managed policies the matrix gives meaning to: what they allow on S3 and KMS. */
export const MANAGED_POLICY_DOCUMENTS: Readonly<Record<string, IamDocument>> = {
  "arn:aws:iam::aws:policy/AdministratorAccess": {
    Version: "2012-10-17",
    Statement: [{ Sid: "Admin", Effect: "Allow", Action: ["*"], Resource: ["*"] }],
  },
  // ReadOnlyAccess includes s3:Get* and s3:List* on every bucket: a planner that has it must still not
  // read another stack's state across accounts (the bucket policy allows each planner its own key).
  "arn:aws:iam::aws:policy/ReadOnlyAccess": {
    Version: "2012-10-17",
    Statement: [{ Sid: "ReadOnly", Effect: "Allow", Action: ["s3:Get*", "s3:List*"], Resource: ["*"] }],
  },
};
