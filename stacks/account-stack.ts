import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { HttpBackend, LocalBackend, TerraformOutput, TerraformStack } from "cdktf";
import type { Construct } from "constructs";
import { checkAccountFields, ConfigError, providerAudiences, providerUrlOf } from "../src/config/rules";
import { providerAdoptionProblems } from "../src/config/adoption";
import type { AccountConfig, Config } from "../src/config/schema";
import { GitLabOidcProvider } from "../src/constructs/gitlab-oidc-provider";
import { GitLabOidcRole } from "../src/constructs/gitlab-oidc-role";
import { compareCodeUnits } from "../src/model/names";
import { oidcProviderArn } from "../src/model/trust-policy";
import { literalFor, literalMap } from "../src/terraform/literal";
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
    for (const role of account.roles) {
      const { name, adopt, ...rest } = role;
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
