import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { Fn, HttpBackend, LocalBackend, S3Backend, TerraformOutput, TerraformStack } from "cdktf";
import type { Construct } from "constructs";
import {
  checkAccountFields,
  ConfigError,
  providerAudiences,
  providerUrlOf,
  roleAudiences,
  type RoleContext,
} from "../src/config/rules";
import { configSchemas } from "../src/config/lazy-schema";
import type { AccountConfig, Config, PolicyDocument, RoleConfig, roleSchema } from "../src/config/schema";
import type { z } from "zod/mini";
import { providerAdoptionProblems } from "../src/config/adoption";
import { GitLabOidcProvider } from "../src/constructs/gitlab-oidc-provider";
import { GitLabOidcRole } from "../src/constructs/gitlab-oidc-role";
import { compareCodeUnits } from "../src/model/names";
import {
  STATE_READ_POLICY,
  STATE_WRITE_POLICY,
  stateReadPolicy,
  stateWritePolicy,
  type S3StateConfig,
  type StackStateAccess,
} from "../src/model/state-access";
import { oidcProviderArn } from "../src/model/trust-policy";
import { expressionLiterals } from "../src/terraform/literal";
import { literalFor, literalMap } from "../src/terraform/literal-for";
import type { SynthesizedRole, SynthesizedStack } from "../src/terraform/synthesized-stacks";
import type { Extension } from "../src/extension";

export interface AccountStackProps {
  /** The GitLab instance (issuer, audiences, thumbprints). */
  readonly gitlab: Config["gitlab"];
  /** Where the stack's state lives. */
  readonly state: Config["state"];
  /** IAM quotas in force. */
  readonly limits: Config["limits"];
  /** The account, its provider mode and its roles. */
  readonly account: AccountConfig;
  /**
   * The IDs behind the config's paths (gitlab-oidc.lock.yaml).
   * @default no IDs (grants that need one are refused)
   */
  readonly lock?: Config["lock"];
  /**
   * The team's extension (gitlab-oidc.extend.ts) and the config it extends: its hook runs after the
   * config's roles, before the outputs and the model are fixed.
   * @default no extension
   */
  readonly extension?: { readonly hook: Extension; readonly config: Config };
  /**
   * With `state.type: s3`: this stack's state key and who may read and write it (stateAccessOf), whose
   * permissions the stack attaches to the pipeline's roles.
   * @default none (required with state.type s3)
   */
  readonly stateAccess?: StackStateAccess;
}

/** The S3 backend of one stack: encrypted, S3-native locking, credentials from the job's profile. */
export function s3BackendProps(state: S3StateConfig, stack: string) {
  return {
    bucket: state.bucket,
    key: `${state.keyPrefix}${stack}.tfstate`,
    region: state.region,
    encrypt: true,
    ...(state.kmsKeyArn ? { kmsKeyId: state.kmsKeyArn } : {}),
    // Terraform ≥ 1.10: the lock is an object beside the state (<key>.tflock), written with a
    // conditional PUT; no DynamoDB table. cdktf 0.21's typings predate it; the backend passes it on.
    useLockfile: true,
  };
}

/**
 * `role` with its generated state policy, if it is one of the stack's pipeline roles (state in S3): one
 * more inline policy, managed (exclusively) like the others.
 */
function withStatePolicy(
  role: RoleConfig,
  state: S3StateConfig,
  partition: string,
  access: StackStateAccess,
): RoleConfig {
  const generated: Record<string, PolicyDocument> =
    role.name === access.readerRole
      ? { [STATE_READ_POLICY]: stateReadPolicy(partition, state, access) as unknown as PolicyDocument }
      : access.writerRole?.managedHere && role.name === access.writerRole.name
        ? { [STATE_WRITE_POLICY]: stateWritePolicy(partition, state, access) as unknown as PolicyDocument }
        : {};
  return Object.keys(generated).length === 0
    ? role
    : { ...role, inlinePolicies: { ...role.inlinePolicies, ...generated } };
}

/** A role as written in gitlab-oidc.yaml (defaults not yet applied): what `AccountStack.addRole` takes. */
export type RoleInput = z.input<typeof roleSchema>;

/** Tag on every resource, so the console shows where a role is managed. */
export const MANAGED_BY_TAG = { "managed-by": "gitlab-oidc-aws" } as const;

/** One AWS account: the GitLab OIDC provider, the roles, their policies, and its own state. */
export class AccountStack extends TerraformStack {
  /**
   * What the stack synthesizes, in the model's terms, without resolving the Terraform again (a third
   * full resolve, ~20% of a 5,000-role synth). A test holds it equal to the HCL parsed back.
   */
  public readonly synthesized: SynthesizedStack;
  /** The account's GitLab OIDC provider (created or looked up): the provider of every role. */
  public readonly provider: GitLabOidcProvider;
  /** The account this stack deploys to. */
  public readonly account: AccountConfig;
  private readonly roleContext: RoleContext;
  private readonly roleArns: Record<string, string> = {};
  private readonly roles: SynthesizedRole[] = [];

  constructor(scope: Construct, props: AccountStackProps) {
    const { account, gitlab, state, limits, lock } = props;
    super(scope, account.name);
    // The rules the config loader runs on these fields, for a stack built from code.
    const problems = [
      ...checkAccountFields(account, ["accounts", account.name]),
      ...providerAdoptionProblems(account, ["accounts", account.name]),
    ];
    if (problems.length > 0) throw new ConfigError(problems);
    const literal = literalFor(this);

    new AwsProvider(this, "aws", {
      region: literal(account.region),
      // Refuses to run with credentials for any other account: a wrong profile fails at plan.
      allowedAccountIds: [literal(account.accountId)],
      // No assume_role, even with deployRoleArn: the HCL is what plan jobs run too, so a role named here
      // would be assumed by every plan. Each job's credentials (AWS_PROFILE / AWS_CONFIG_FILE) decide
      // the role: the plan job's chain ends in the read-only planner, the deploy job's in deployRoleArn
      // (docs/pipeline.md, "Credentials").
      defaultTags: [{ tags: literalMap({ ...MANAGED_BY_TAG, ...account.tags }, literal) }],
    });

    if (state.type === "gitlab") {
      const project = encodeURIComponent(String(state.projectId));
      const address = `${state.url}/api/v4/projects/${project}/terraform/state/${account.name}`;
      // No credentials here: they come from TF_HTTP_USERNAME / TF_HTTP_PASSWORD at run time.
      new HttpBackend(this, {
        address,
        lockAddress: `${address}/lock`,
        unlockAddress: `${address}/lock`,
        lockMethod: "POST",
        unlockMethod: "DELETE",
        retryWaitMin: 5,
      });
    } else if (state.type === "s3") {
      new S3Backend(this, s3BackendProps(state, account.name));
    } else {
      // Relative to the stack's directory (<outdir>/stacks/<name>): the repository root, where cdktf
      // keeps local state by default, whichever of terraform/ or cdktf.out/ runs it.
      new LocalBackend(this, { path: `../../../terraform.${account.name}.tfstate` });
    }

    const provider = new GitLabOidcProvider(this, "gitlab", {
      url: providerUrlOf(gitlab),
      audiences: providerAudiences(gitlab, account.roles),
      thumbprints: gitlab.thumbprints,
      existing: account.provider === "existing",
      // adopt: true on the account takes over the provider it already has for this URL.
      ...(account.adopt
        ? { adoptArn: oidcProviderArn(account.partition, account.accountId, providerUrlOf(gitlab)) }
        : {}),
    });
    this.provider = provider;
    this.account = account;
    this.roleContext = {
      gitlab,
      ...(lock ? { lock } : {}),
      limits,
      accountId: account.accountId,
      partition: account.partition,
    };
    const stateAccess = props.stateAccess;
    for (const role of account.roles) {
      this.addValidRole(
        state.type === "s3" && stateAccess !== undefined
          ? withStatePolicy(role, state, account.partition, stateAccess)
          : role,
      );
    }
    if (state.type === "s3" && stateAccess?.writerRole && !stateAccess.writerRole.managedHere) {
      // deployRoleArn writes the state (the deploy job's terraform runs as it); it is not a role of this
      // config, so its state permissions are one inline policy beside whatever else manages it.
      new IamRolePolicy(this, "state-writer", {
        name: STATE_WRITE_POLICY,
        role: literal(stateAccess.writerRole.name),
        // jsonencode of the structure, as the role's own inline policies are written.
        policy: Fn.jsonencode(expressionLiterals(stateWritePolicy(account.partition, state, stateAccess))),
      });
    }
    props.extension?.hook.accountStack?.(this, { config: props.extension.config, account });
    const { roleArns, roles } = this;
    this.synthesized = {
      name: account.name,
      accountId: account.accountId,
      region: account.region,
      providerUrl: provider.url,
      providerMode: provider.existing ? "existing" : "create",
      providerReference: provider.reference,
      ...(provider.existing ? {} : { providerAudiences: [...provider.audiences] }),
      ...(provider.importId !== undefined
        ? { providerImport: { to: "aws_iam_openid_connect_provider.gitlab", id: provider.importId } }
        : {}),
      // In address order, as Terraform lists the resources.
      roles: roles.sort((a, b) => compareCodeUnits(a.address, b.address)),
    };

    new TerraformOutput(this, "provider_arn", {
      value: provider.arn,
      description: "ARN of the GitLab OIDC identity provider",
    });
    new TerraformOutput(this, "role_arns", {
      value: roleArns,
      description: "Role ARN by role name: the role_arn input of the aws-credentials CI/CD component",
    });
  }

  /**
   * Adds a role, written as under this account in gitlab-oidc.yaml (`{ name, allow: [...], ... }`, the
   * same keys and defaults): the same schema, construct and rules (a grant the trust policy cannot
   * enforce is refused with a ConfigError), with the account's provider, lock and quotas and its `adopt`
   * default; it appears in the HCL, the `role_arns` output, ACCESS.md and explain. For the team's
   * extension hook (src/extension).
   */
  addRole(role: RoleInput): GitLabOidcRole {
    const parsed = configSchemas().roleSchema.safeParse(role);
    const at = ["accounts", this.account.name, "roles", String((role as { name?: unknown }).name ?? "?")];
    if (!parsed.success) {
      throw new ConfigError(
        parsed.error.issues.map((issue) => ({
          path: [...at, ...issue.path.map((part) => (typeof part === "symbol" ? String(part) : part))],
          message: issue.message,
        })),
      );
    }
    return this.addValidRole(parsed.data);
  }

  private addValidRole(role: RoleConfig): GitLabOidcRole {
    const { name, adopt, ...rest } = role;
    if (name in this.roleArns) {
      throw new ConfigError([
        {
          path: ["accounts", this.account.name, "roles"],
          message: `a role named ${name} already exists in this account`,
        },
      ]);
    }
    // The provider's client IDs are fixed from the config's roles; a role added later cannot widen them.
    const missing = this.provider.existing
      ? []
      : roleAudiences(this.roleContext.gitlab, role).filter((aud) => !this.provider.audiences.includes(aud));
    if (missing.length > 0) {
      throw new ConfigError([
        {
          path: ["accounts", this.account.name, "roles", name, "audience"],
          message: `the account's provider does not accept ${missing.join(", ")}; add it to gitlab.audience or give a role in the config that audience`,
        },
      ]);
    }
    const construct = new GitLabOidcRole(this, name, {
      provider: this.provider,
      name,
      ...rest,
      adopt: adopt ?? this.account.adopt ?? false,
      context: this.roleContext,
    });
    this.roleArns[name] = construct.arn;
    this.roles.push(construct.synthesized);
    return construct;
  }
}
