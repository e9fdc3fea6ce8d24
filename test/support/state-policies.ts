/**
 * The state permissions as deployed: read back from a synth's HCL (the bucket policy of the
 * gitlab-oidc-state stack, every role's inline policies), for the evaluator matrix and the S3 stand-in.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Config } from "../../src/config/schema";
import { evaluateAccess } from "../../src/iam/evaluate-access";
import { roleArn } from "../../src/model/names";
import {
  STATE_STACK,
  stateAccessOf,
  type IamDocument,
  type S3StateConfig,
} from "../../src/model/state-access";
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

/** The bucket and its account in test/fixtures/state/s3-state.yaml. */
export const BUCKET = "arn:aws:s3:::acme-gitlab-oidc-state";
export const BUCKET_ACCOUNT = "111111111111";
export const BREAK_GLASS = "arn:aws:iam::111111111111:role/break-glass";

/** Principals of the matrix: the pipeline's roles (from the HCL) and others, with what they hold. */
export function principals(deployed: DeployedStatePolicies): Map<string, IamDocument[]> {
  const all = new Map<string, IamDocument[]>();
  for (const [arn, inline] of deployed.identityPolicies) {
    const managed = (deployed.managedPolicies.get(arn) ?? []).flatMap(
      (m) => MANAGED_POLICY_DOCUMENTS[m] ?? [],
    );
    all.set(arn, [...inline, ...managed]);
  }
  const admin = MANAGED_POLICY_DOCUMENTS["arn:aws:iam::aws:policy/AdministratorAccess"]!;
  all.set(BREAK_GLASS, [admin]);
  all.set("arn:aws:iam::111111111111:role/bucket-account-admin", [admin]);
  all.set("arn:aws:iam::222222222222:role/auditor", [
    MANAGED_POLICY_DOCUMENTS["arn:aws:iam::aws:policy/ReadOnlyAccess"]!,
  ]);
  all.set("arn:aws:iam::333333333333:role/outsider-admin", [admin]);
  return all;
}

export interface Case {
  readonly principal: string;
  readonly action: string;
  readonly resource: string;
  readonly context: Record<string, string>;
}

export function cases(config: Config, state: S3StateConfig, who: Iterable<string>): Case[] {
  const keys = stateAccessOf(config, state).flatMap((a) => [a.key, a.lockKey]);
  const objects = [...keys, `${state.keyPrefix}notes.txt`, "elsewhere/object"].map((k) => `${BUCKET}/${k}`);
  const objectActions = [
    "s3:GetObject",
    "s3:PutObject",
    "s3:DeleteObject",
    "s3:DeleteObjectVersion",
    "s3:PutObjectAcl",
  ];
  const out: Case[] = [];
  for (const principal of who) {
    for (const resource of objects) {
      for (const action of objectActions) out.push({ principal, action, resource, context: {} });
    }
    for (const prefix of [
      "env:/",
      `${state.keyPrefix}production.tfstate`,
      `${state.keyPrefix}staging.tfstate`,
      "",
    ]) {
      out.push({ principal, action: "s3:ListBucket", resource: BUCKET, context: { "s3:prefix": prefix } });
    }
    for (const action of ["s3:PutBucketPolicy", "s3:DeleteBucket", "s3:PutBucketVersioning"]) {
      out.push({ principal, action, resource: BUCKET, context: {} });
    }
  }
  return out;
}

/** What the design allows, written independently of the policies. */
export function intended(
  config: Config,
  state: S3StateConfig,
  c: Case,
  identity: readonly IamDocument[],
): boolean {
  const access = stateAccessOf(config, state);
  const inBucketAccount = c.principal.split(":")[4] === BUCKET_ACCOUNT;
  const isAdmin = identity.some((d) => d.Statement.some((s) => s.Action.includes("*")));
  const readOnly = identity.some((d) => d.Statement.some((s) => s.Action.includes("s3:Get*")));
  if (c.resource === BUCKET) {
    if (c.action !== "s3:ListBucket") return c.principal === BREAK_GLASS;
    const own = access.filter((a) => a.reader === c.principal || a.writer === c.principal);
    if (own.some((a) => c.context["s3:prefix"] === "env:/" || c.context["s3:prefix"] === a.key)) return true;
    // Listing the state prefix shows key names, which are the stack names the repository already shows:
    // the bucket lets every pipeline role list it, as far as its own policies allow.
    const prefix = c.context["s3:prefix"] ?? "";
    const listable = prefix === "env:/" || (prefix.startsWith(state.keyPrefix) && prefix !== "");
    if (own.length > 0 && listable && (isAdmin || readOnly)) return true;
    return inBucketAccount && (isAdmin || readOnly);
  }
  const key = c.resource.slice(BUCKET.length + 1);
  const stack = access.find((a) => key === a.key || key === a.lockKey);
  const write = c.action !== "s3:GetObject";
  if (write) {
    if (c.principal === BREAK_GLASS) return true;
    if (stack === undefined || stack.writer !== c.principal) return false;
    // The writer: state put, lock put and delete; never delete or rewrite history.
    return c.action === "s3:PutObject" || (c.action === "s3:DeleteObject" && key === stack.lockKey);
  }
  // The writer reads the state and the lock; the planner the state, and the lock object (who holds
  // the lock) where its own policies allow: the bucket does not stop it.
  if (stack && stack.writer === c.principal) return true;
  if (stack && stack.reader === c.principal && (key === stack.key || isAdmin || readOnly)) return true;
  return inBucketAccount && (isAdmin || readOnly);
}

export interface MatrixResult {
  readonly cases: number;
  readonly overGrants: string[];
  readonly underGrants: string[];
}

export function caseLabel(c: Case): string {
  return `${c.principal} ${c.action} ${c.resource} ${JSON.stringify(c.context)}`;
}

/** Our evaluator over the whole matrix, against the intent. */
export function judgeMatrix(
  config: Config,
  state: S3StateConfig,
  deployed: DeployedStatePolicies,
): MatrixResult {
  const who = principals(deployed);
  const matrix = cases(config, state, who.keys());
  const overGrants: string[] = [];
  const underGrants: string[] = [];
  for (const c of matrix) {
    const identity = who.get(c.principal)!;
    const ours = oursFor(c, identity, deployed);
    const intent = intended(config, state, c, identity);
    if (ours && !intent) overGrants.push(caseLabel(c));
    if (!ours && intent) underGrants.push(caseLabel(c));
  }
  return { cases: matrix.length, overGrants, underGrants };
}

export function oursFor(c: Case, identity: readonly IamDocument[], deployed: DeployedStatePolicies): boolean {
  return evaluateAccess(
    { principalArn: c.principal, action: c.action, resource: c.resource, context: c.context },
    { identityPolicies: identity, resourcePolicy: deployed.bucketPolicy, resourceAccount: BUCKET_ACCOUNT },
  ).allowed;
}
