import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { Fn, HttpBackend, LocalBackend, S3Backend, TerraformOutput, TerraformStack } from "cdktf";
import type { Construct } from "constructs";
import { checkAccountFields, ConfigError, providerAudiences, providerUrlOf } from "../src/config/rules";
import type { AccountConfig, Config, PolicyDocument } from "../src/config/schema";
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
import { expressionLiterals, literalFor, literalMap } from "../src/terraform/literal";
import type { SynthesizedRole, SynthesizedStack } from "../src/terraform/synthesized-stacks";

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

/** The generated state policy of role `name`, if it is one of the stack's pipeline roles. */
function statePolicyFor(
  name: string,
  state: S3StateConfig,
  partition: string,
  access: StackStateAccess,
): Record<string, PolicyDocument> | undefined {
  if (name === access.readerRole) {
    return { [STATE_READ_POLICY]: stateReadPolicy(partition, state, access) as unknown as PolicyDocument };
  }
  if (access.writerRole?.managedHere && name === access.writerRole.name) {
    return { [STATE_WRITE_POLICY]: stateWritePolicy(partition, state, access) as unknown as PolicyDocument };
  }
  return undefined;
}

/** Tag on every resource, so the console shows where a role is managed. */
export const MANAGED_BY_TAG = { "managed-by": "gitlab-oidc-aws" } as const;

/** One AWS account: the GitLab OIDC provider, the roles, their policies, and its own state. */
export class AccountStack extends TerraformStack {
  /**
   * What the stack synthesizes, in the model's terms, without resolving the Terraform again (a third
   * full resolve, ~20% of a 5,000-role synth). A test holds it equal to the HCL parsed back.
   */
  public readonly synthesized: SynthesizedStack;

  constructor(scope: Construct, props: AccountStackProps) {
    const { account, gitlab, state, limits, lock } = props;
    super(scope, account.name);
    // The rules the config loader runs on these fields, for a stack built from code.
    const problems = checkAccountFields(account, ["accounts", account.name]);
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
    const roleArns: Record<string, string> = {};
    const roles: SynthesizedRole[] = [];
    const stateAccess = props.stateAccess;
    for (const role of account.roles) {
      const { name, adopt, ...rest } = role;
      // With state in S3, the pipeline's roles get their state permissions as one more inline policy,
      // managed (exclusively) like the others.
      if (state.type === "s3" && stateAccess !== undefined) {
        const generated = statePolicyFor(name, state, account.partition, stateAccess);
        if (generated !== undefined) rest.inlinePolicies = { ...rest.inlinePolicies, ...generated };
      }
      const construct = new GitLabOidcRole(this, name, {
        provider,
        name,
        ...rest,
        adopt: adopt ?? account.adopt ?? false,
        context: {
          gitlab,
          ...(lock ? { lock } : {}),
          limits,
          accountId: account.accountId,
          partition: account.partition,
        },
      });
      roleArns[name] = construct.arn;
      roles.push(construct.synthesized);
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
}
