/**
 * Who may read and who may write Terraform state kept in S3 (`state.type: s3`), as IAM policy documents.
 * One model, used by the stacks (the generated inline policies, the bucket policy), ACCESS.md, and the
 * tests' S3 stand-in and evaluator matrix, so what is reported is what is deployed.
 *
 * The design (docs/state.md): a stack's state is `<keyPrefix><stack>.tfstate` with S3-native locking
 * (`<key>.tflock`). Its planner role may read the state object and nothing else (plans run with
 * `-lock=false`); its writer (the deployer role, or `deployRoleArn` when the deploy job reaches one)
 * may read and write the state and the lock object. The bucket policy denies every object write and
 * every bucket-configuration change to anyone else, break-glass excepted, and each stack's keys to every
 * other writer, so the staging deployer cannot write production's state even where an identity policy
 * (AdministratorAccess, say) would let it.
 */
import type { AccountConfig, Config } from "../config/schema";
import { roleArn } from "./names";

/** The bootstrap stack: the state bucket itself, in `state.account`; its state is break-glass only. */
export const STATE_STACK = "gitlab-oidc-state";
/** Inline policy the stack's planner role gets: read its state. */
export const STATE_READ_POLICY = "gitlab-oidc-state-read";
/** Inline policy the stack's writer gets: read and write its state and lock. */
export const STATE_WRITE_POLICY = "gitlab-oidc-state-write";
/**
 * Terraform's S3 backend lists the workspace prefix (`workspace_key_prefix`, default `env:`) on every
 * init and plan, to learn which workspaces exist; the default workspace's key is listed by name.
 */
export const WORKSPACE_LIST_PREFIX = "env:/";
/** IAM's limit for a bucket policy, in characters (S3: 20 KB). */
export const BUCKET_POLICY_MAX_LENGTH = 20_480;

/**
 * Changes to an object's history and metadata: deleting a version, ACLs, tags, retention, legal holds
 * (`s3:PutObject?*` and `s3:DeleteObject?*` are every action that starts so and is longer), restores
 * and replication writes (`s3:Re*`: S3 has no read action so named). Break-glass only.
 */
const HISTORY_CHANGES = ["s3:PutObject?*", "s3:DeleteObject?*", "s3:Re*"];
/** The writes Terraform makes: the state and the lock object, and the lock's release. */
const OBJECT_WRITES = ["s3:PutObject", "s3:DeleteObject"];
/** Changes to the bucket itself: its policy, versioning, encryption, public access block, lifecycle. */
const BUCKET_CHANGES = [
  "s3:PutBucket*",
  "s3:DeleteBucket*",
  "s3:PutEncryptionConfiguration",
  "s3:PutLifecycleConfiguration",
  "s3:PutReplicationConfiguration",
];

export type S3StateConfig = Extract<Config["state"], { type: "s3" }>;

export interface IamStatement {
  readonly Sid: string;
  readonly Effect: "Allow" | "Deny";
  readonly Principal?: "*" | { readonly AWS: readonly string[] };
  readonly Action: readonly string[];
  readonly Resource?: readonly string[];
  readonly NotResource?: readonly string[];
  readonly Condition?: Readonly<Record<string, Readonly<Record<string, readonly string[]>>>>;
}

export interface IamDocument {
  readonly Version: "2012-10-17";
  readonly Statement: readonly IamStatement[];
}

/** Who may touch one stack's state. */
export interface StackStateAccess {
  readonly stack: string;
  /** `<keyPrefix><stack>.tfstate`. */
  readonly key: string;
  /** `<key>.tflock`: Terraform's S3-native lock object. */
  readonly lockKey: string;
  /** The planner role's ARN: reads the state. Absent for the bootstrap stack. */
  readonly reader?: string;
  /** The one principal that writes it: the deployer, `deployRoleArn`, or break-glass (bootstrap). */
  readonly writer: string;
  /** Where the writer's inline policy goes: a role of the config, or one only named by ARN. */
  readonly writerRole?: { readonly name: string; readonly managedHere: boolean };
  readonly readerRole?: string;
}

export function stateKey(state: S3StateConfig, stack: string): string {
  return `${state.keyPrefix}${stack}.tfstate`;
}

/** The partition of the bucket: its account's. */
export function bucketPartition(config: Config, state: S3StateConfig): string {
  return config.accounts.find((a) => a.name === state.account)?.partition ?? "aws";
}

export function bucketArn(partition: string, bucket: string): string {
  return `arn:${partition}:s3:::${bucket}`;
}

/** The role of `account` named `name`, as an ARN; undefined when the account has no such role. */
function accountRoleArn(account: AccountConfig, name: string): string | undefined {
  const role = account.roles.find((r) => r.name === name);
  return role && roleArn(account.partition, account.accountId, role.path, role.name);
}

/** `arn:aws:iam::1:role/path/name` → `name`. */
export function roleNameOfArn(arn: string): string {
  return arn.slice(arn.lastIndexOf("/") + 1);
}

/**
 * Every stack's state and who may touch it: the account stacks in config order, then the bootstrap
 * stack. Accounts without `pipeline` roles are left out (the config refuses them with state s3).
 */
export function stateAccessOf(config: Config, state: S3StateConfig): StackStateAccess[] {
  const stacks: StackStateAccess[] = [];
  for (const account of config.accounts) {
    if (!account.pipeline) continue;
    const reader = accountRoleArn(account, account.pipeline.planner);
    const deployer = accountRoleArn(account, account.pipeline.deployer);
    if (reader === undefined || deployer === undefined) continue;
    const key = stateKey(state, account.name);
    const writer = account.deployRoleArn ?? deployer;
    stacks.push({
      stack: account.name,
      key,
      lockKey: `${key}.tflock`,
      reader,
      readerRole: account.pipeline.planner,
      writer,
      writerRole: account.deployRoleArn
        ? { name: roleNameOfArn(account.deployRoleArn), managedHere: false }
        : { name: account.pipeline.deployer, managedHere: true },
    });
  }
  const key = stateKey(state, STATE_STACK);
  stacks.push({ stack: STATE_STACK, key, lockKey: `${key}.tflock`, writer: state.breakGlassRoleArn });
  return stacks;
}

function objectArn(partition: string, state: S3StateConfig, key: string): string {
  return `${bucketArn(partition, state.bucket)}/${key}`;
}

/** ListBucket for what Terraform lists: the workspace prefix and the stack's own key. */
function listStatement(partition: string, state: S3StateConfig, key: string): IamStatement {
  return {
    Sid: "ListStateKey",
    Effect: "Allow",
    Action: ["s3:ListBucket"],
    Resource: [bucketArn(partition, state.bucket)],
    Condition: { StringEquals: { "s3:prefix": [WORKSPACE_LIST_PREFIX, key] } },
  };
}

/** The KMS key's actions, when the state is encrypted with one. */
function kmsStatements(state: S3StateConfig, sid: string, actions: string[]): IamStatement[] {
  return state.kmsKeyArn ? [{ Sid: sid, Effect: "Allow", Action: actions, Resource: [state.kmsKeyArn] }] : [];
}

/** The planner's inline policy: list and read its stack's state object; decrypt it. */
export function stateReadPolicy(
  partition: string,
  state: S3StateConfig,
  access: StackStateAccess,
): IamDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      listStatement(partition, state, access.key),
      {
        Sid: "ReadState",
        Effect: "Allow",
        Action: ["s3:GetObject"],
        Resource: [objectArn(partition, state, access.key)],
      },
      ...kmsStatements(state, "DecryptState", ["kms:Decrypt"]),
    ],
  };
}

/** The writer's inline policy: read and write its stack's state and lock objects; encrypt them. */
export function stateWritePolicy(
  partition: string,
  state: S3StateConfig,
  access: StackStateAccess,
): IamDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      listStatement(partition, state, access.key),
      {
        Sid: "ReadWriteState",
        Effect: "Allow",
        Action: ["s3:GetObject", "s3:PutObject"],
        Resource: [objectArn(partition, state, access.key)],
      },
      {
        Sid: "LockState",
        Effect: "Allow",
        Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
        Resource: [objectArn(partition, state, access.lockKey)],
      },
      ...kmsStatements(state, "EncryptState", ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"]),
    ],
  };
}

/** `arn:aws:iam::222222222222:role/x` → `arn:aws:iam::222222222222:root`. */
export function accountRootOf(arn: string): string {
  const [, partition, , , account] = arn.split(":");
  return `arn:${partition}:iam::${account}:root`;
}

/**
 * An Allow for roles of possibly another account. The Principal is the role's account (always a
 * valid principal, even before the role exists: naming a role that does not exist yet fails
 * PutBucketPolicy), narrowed to the role by `aws:PrincipalArn`.
 */
function allowFor(roles: string[], sid: string, actions: string[], resources: string[]): IamStatement {
  const unique = [...new Set(roles)];
  return {
    Sid: sid,
    Effect: "Allow",
    Principal: { AWS: [...new Set(unique.map(accountRootOf))] },
    Action: actions,
    Resource: resources,
    Condition: { ArnEquals: { "aws:PrincipalArn": unique } },
  };
}

/** `production-eu` → `ProductionEu`: a Sid holds letters and digits only. */
function sidPart(stack: string): string {
  return stack
    .split(/[-_]/)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join("");
}

/**
 * The bucket policy. Denies first (they win over any Allow, in this account or another): no request
 * without TLS; no object write and no bucket change by anyone but the writers and break-glass; no write
 * to a stack's keys by anyone but that stack's writer and break-glass. Then the Allows that principals
 * of other accounts need (a cross-account request needs the bucket's Allow as well as their own).
 */
export function stateBucketPolicy(config: Config, state: S3StateConfig): IamDocument {
  const partition = bucketPartition(config, state);
  const bucket = bucketArn(partition, state.bucket);
  const stacks = stateAccessOf(config, state);
  const principals = [...new Set(stacks.flatMap((s) => [s.reader, s.writer].filter((p) => p !== undefined)))];
  const statements: IamStatement[] = [
    {
      Sid: "DenyWithoutTls",
      Effect: "Deny",
      Principal: "*",
      Action: ["s3:*"],
      Resource: [bucket, `${bucket}/*`],
      Condition: { Bool: { "aws:SecureTransport": ["false"] } },
    },
    {
      Sid: "DenyBucketChangesButBreakGlass",
      Effect: "Deny",
      Principal: "*",
      Action: BUCKET_CHANGES,
      Resource: [bucket],
      Condition: { ArnNotEquals: { "aws:PrincipalArn": [state.breakGlassRoleArn] } },
    },
    {
      Sid: "DenyHistoryChangesButBreakGlass",
      Effect: "Deny",
      Principal: "*",
      Action: HISTORY_CHANGES,
      Resource: [`${bucket}/*`],
      Condition: { ArnNotEquals: { "aws:PrincipalArn": [state.breakGlassRoleArn] } },
    },
    {
      // The state objects end in .tfstate (locks in .tflock): only break-glass deletes one.
      Sid: "DenyStateDeletesButBreakGlass",
      Effect: "Deny",
      Principal: "*",
      Action: ["s3:DeleteObject"],
      Resource: [`${bucket}/${state.keyPrefix}*.tfstate`],
      Condition: { ArnNotEquals: { "aws:PrincipalArn": [state.breakGlassRoleArn] } },
    },
    {
      // Outside the account stacks' keys (each guarded below) nothing is written but by break-glass.
      Sid: "DenyOtherWritesButBreakGlass",
      Effect: "Deny",
      Principal: "*",
      Action: OBJECT_WRITES,
      NotResource: stacks.filter((s) => s.reader !== undefined).map((s) => `${bucket}/${s.key}*`),
      Condition: { ArnNotEquals: { "aws:PrincipalArn": [state.breakGlassRoleArn] } },
    },
  ];
  for (const access of stacks) {
    // The bootstrap stack's keys: break-glass only, by DenyOtherWritesButBreakGlass.
    if (access.reader === undefined) continue;
    // `<key>*` is the state and its lock: stack names hold no dot, so no other stack's key starts so.
    const keys = `${bucket}/${access.key}*`;
    statements.push({
      Sid: `DenyWrites${sidPart(access.stack)}`,
      Effect: "Deny",
      Principal: "*",
      Action: OBJECT_WRITES,
      Resource: [keys],
      Condition: {
        ArnNotEquals: { "aws:PrincipalArn": [...new Set([access.writer, state.breakGlassRoleArn])] },
      },
    });
    // One Allow per stack, an upper bound: it names account roots, so it grants nothing by itself
    // (identity policies decide, the generated ones precisely), and the Denies above keep the planner
    // from writing and everyone from deleting the state or its history.
    statements.push(
      allowFor(
        [access.reader, access.writer],
        `Stack${sidPart(access.stack)}`,
        ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
        [keys],
      ),
    );
  }
  if (principals.length > 0) {
    statements.push({
      Sid: "ListStateKeys",
      Effect: "Allow",
      Principal: { AWS: [...new Set(principals.map(accountRootOf))] },
      Action: ["s3:ListBucket"],
      Resource: [bucket],
      Condition: {
        ArnEquals: { "aws:PrincipalArn": principals },
        StringLike: { "s3:prefix": [WORKSPACE_LIST_PREFIX, `${state.keyPrefix}*`] },
      },
    });
  }
  return { Version: "2012-10-17", Statement: statements };
}
