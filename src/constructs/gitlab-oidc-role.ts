import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { IamRolePolicyAttachment } from "@cdktf/provider-aws/lib/iam-role-policy-attachment";
import { Fn, TerraformIterator } from "cdktf";
import { Construct } from "constructs";
import {
  checkRoleAndTrust,
  ConfigError,
  providerUrlOf,
  roleAudiences,
  type RoleContext,
} from "../config/rules";
import { ADOPTED_POLICY_KEYS } from "../config/adoption";
import type { AllowEntry, PolicyDocument } from "../config/schema";
import { compareCodeUnits, terraformName } from "../model/names";
import { withProviderArn, type IamPolicyDocument } from "../model/trust-policy";
import {
  DirectRolePoliciesExclusive,
  DirectRolePolicyAttachmentsExclusive,
} from "../terraform/direct-exclusive";
import { DirectPolicyDocument } from "../terraform/direct-policy-document";
import { expressionLiteral, expressionLiterals } from "../terraform/literal";
import { literalFor, literalMap } from "../terraform/literal-for";
import type { SynthesizedImport, SynthesizedRole } from "../terraform/synthesized-stacks";
import type { GitLabOidcProvider } from "./gitlab-oidc-provider";
import { ImportBlock, importExisting, staticHclString } from "./import-block";

export interface GitLabOidcRoleProps {
  /** The GitLab OIDC provider whose tokens may assume this role. */
  readonly provider: GitLabOidcProvider;
  /** IAM role name (1–64 characters of letters, digits and `+=,.@_-`). Also names the Terraform addresses. */
  readonly name: string;
  /** Who may assume the role; entries are ORed. At least one. */
  readonly allow: readonly AllowEntry[];
  /**
   * Audience(s) the token's `aud` must equal for this role; each must be a client ID of the provider.
   * @default the context's gitlab.audience (else the GitLab URL)
   */
  readonly audience?: string | readonly string[];
  /**
   * Shown in the IAM console.
   * @default no description
   */
  readonly description?: string;
  /**
   * Managed policy ARNs to attach; the role's attachments are managed exclusively (others are detached).
   * Required with `adopt`: the live role's policies, `[]` on purpose for none (docs/adopting.md).
   * @default [] (without adopt)
   */
  readonly managedPolicyArns?: readonly string[];
  /**
   * Inline policies by name, as structured IAM policy documents; managed exclusively (others are
   * deleted). Required with `adopt`: the live role's inline policies, `{}` on purpose for none.
   * @default {} (without adopt)
   */
  readonly inlinePolicies?: Readonly<Record<string, PolicyDocument>>;
  /**
   * Longest session, in seconds (3600–43200).
   * @default 3600
   */
  readonly maxSessionDuration?: number;
  /**
   * ARN of the managed policy that bounds the role's permissions.
   * @default no boundary
   */
  readonly permissionsBoundary?: string;
  /**
   * IAM path.
   * @default "/"
   */
  readonly path?: string;
  /**
   * Tags on the role.
   * @default {}
   */
  readonly tags?: Readonly<Record<string, string>>;
  /**
   * `false`: this role's grants match by path only, whatever `gitlab.pinIds` says (an adopted trust
   * that pins no IDs today). Only `false`; otherwise the context's gitlab.pinIds decides.
   * @default the context's gitlab.pinIds
   */
  readonly pinIds?: false;
  /**
   * Adopt an existing role: import blocks take over the role, its attachments, its inline policies and
   * the exclusive resources by their import IDs, instead of creating them (which fails with
   * EntityAlreadyExists). Needs Terraform ≥ 1.5. Requires `managedPolicyArns` and `inlinePolicies`
   * (what the live role has), so adopting never detaches a policy the props did not name. See
   * docs/adopting.md.
   * @default false
   */
  readonly adopt?: boolean;
  /**
   * Rules the role is checked against: the GitLab settings (sub claim, ID pinning) and lock, the
   * account's id and partition, and the IAM quotas in force. The trust policy's length is checked
   * against `limits.trustPolicyLength`.
   */
  readonly context: RoleContext;
}

/** The import blocks adopting a role writes, in the model's terms (held equal to the HCL by the tests). */
export function adoptionImports(
  roleName: string,
  address: string,
  managedPolicyArns: readonly string[],
  inlinePolicyNames: readonly string[],
): SynthesizedImport[] {
  const imports: SynthesizedImport[] = [
    { to: `aws_iam_role.${address}`, id: roleName },
    { to: `aws_iam_role_policy_attachments_exclusive.${address}`, id: roleName },
    { to: `aws_iam_role_policies_exclusive.${address}`, id: roleName },
    ...managedPolicyArns.map((arn) => ({
      to: `aws_iam_role_policy_attachment.${address}[${staticHclString(arn)}]`,
      id: `${roleName}/${arn}`,
    })),
    ...inlinePolicyNames.map((policy) => ({
      to: `aws_iam_role_policy.${address}_${terraformName(policy)}`,
      id: `${roleName}:${policy}`,
    })),
  ];
  // In address order, as the reader lists them.
  return imports.sort((a, b) => compareCodeUnits(a.to, b.to));
}

/**
 * A web-identity role that GitLab CI/CD jobs assume with their ID token, with its trust policy
 * (`data.aws_iam_policy_document.<name>_trust`), managed policy attachments and inline policies, both
 * managed exclusively (`aws_iam_role_policy_attachments_exclusive`, `aws_iam_role_policies_exclusive`).
 * Every address derives from the role name, so reordering the config changes nothing.
 */
export class GitLabOidcRole extends Construct {
  /** The role's ARN (a Terraform reference). */
  public readonly arn: string;
  /** The trust policy as IAM will evaluate it, with the provider ARN as a Terraform reference. */
  public readonly trustPolicy: IamPolicyDocument;
  /** What this construct synthesizes, in the terms of the model read back from Terraform. */
  public readonly synthesized: SynthesizedRole;

  constructor(scope: Construct, id: string, props: GitLabOidcRoleProps) {
    super(scope, id);
    const managedPolicyArns = props.managedPolicyArns ?? [];
    const inlinePolicies = props.inlinePolicies ?? {};
    const path = props.path ?? "/";
    const maxSessionDuration = props.maxSessionDuration ?? 3600;
    const audience =
      typeof props.audience === "string" ? props.audience : props.audience && [...props.audience];
    const { problems, trustPolicy: checkedTrustPolicy } = checkRoleAndTrust(
      {
        name: props.name,
        ...(audience !== undefined ? { audience } : {}),
        allow: [...props.allow],
        managedPolicyArns: [...managedPolicyArns],
        inlinePolicies: { ...inlinePolicies },
        maxSessionDuration,
        path,
        tags: { ...props.tags },
        ...(props.description === undefined ? {} : { description: props.description }),
        ...(props.permissionsBoundary ? { permissionsBoundary: props.permissionsBoundary } : {}),
        ...(props.pinIds === false ? { pinIds: false as const } : {}),
      },
      props.context,
      ["roles", props.name],
    );
    if (props.adopt) {
      for (const key of ADOPTED_POLICY_KEYS) {
        if (props[key] !== undefined) continue;
        problems.push({
          path: ["roles", props.name, key],
          message: `the role is adopted: pass ${key} (what the live role has, ${key === "managedPolicyArns" ? "[]" : "{}"} on purpose for none), or the first apply removes what it has`,
        });
      }
    }
    if (props.allow.length === 0)
      problems.push({ path: ["roles", props.name, "allow"], message: "add at least one allow entry" });
    const audiences = roleAudiences(props.context.gitlab, { audience });
    const notClientIds = audiences.filter(
      (a) => !props.provider.existing && !props.provider.audiences.includes(a),
    );
    if (notClientIds.length > 0) {
      problems.push({
        path: ["roles", props.name, "audience"],
        message: `${notClientIds.map((a) => `"${a}"`).join(", ")} is not a client ID of the provider, so STS would refuse the token: add it to the provider's audiences (gitlab.audience lists every provider's client IDs: keep an old audience there, beside the new one, until no job sends it)`,
      });
    }
    // The rules (pinning, ref_protected, which keys AWS supplies) were checked for the context's issuer;
    // the statements are written for the provider's. They must be one issuer.
    const issuer = providerUrlOf(props.context.gitlab);
    if (props.provider.url !== issuer) {
      problems.push({
        path: ["roles", props.name],
        message: `the provider is for tokens of ${props.provider.url}, but the role's context is for ${issuer} (gitlab.issuer, else gitlab.url), whose rules the grants were checked by: pass the provider for ${issuer}`,
      });
    }
    if (problems.length > 0) throw new ConfigError(problems);

    const name = terraformName(props.name);
    // Every value from the config reaches cdktf through this escape, so it stays a literal in Terraform.
    const literal = literalFor(this);
    // The policy checkRole measured (the same settings, audiences and grants, for the same issuer: checked
    // above), trusting this provider's ARN reference.
    this.trustPolicy = withProviderArn(checkedTrustPolicy!, props.provider.arn);
    // cdktf's data source, its HCL written directly in the main job's synth (most of a stack's text).
    const trust = new DirectPolicyDocument(this, "trust", {
      statement: this.trustPolicy.Statement.map((statement) => ({
        sid: statement.Sid && literal(statement.Sid),
        effect: statement.Effect,
        actions: statement.Action.map(literal),
        // The provider's ARN is a Terraform reference, not a literal.
        principals: [{ type: "Federated", identifiers: statement.Principal.Federated }],
        condition: Object.entries(statement.Condition).flatMap(([test, keys]) =>
          Object.entries(keys).map(([variable, values]) => ({
            test: literal(test),
            variable: literal(variable),
            values: values.map(literal),
          })),
        ),
      })),
    });
    trust.overrideLogicalId(`${name}_trust`);

    const role = new IamRole(this, "role", {
      name: literal(props.name),
      path: literal(path),
      description: props.description === undefined ? undefined : literal(props.description),
      assumeRolePolicy: trust.json,
      maxSessionDuration,
      permissionsBoundary:
        props.permissionsBoundary === undefined ? undefined : literal(props.permissionsBoundary),
      tags: props.tags && Object.keys(props.tags).length > 0 ? literalMap(props.tags, literal) : undefined,
    });
    role.overrideLogicalId(name);
    this.arn = role.arn;
    // Each read of an attribute makes a new reference token, which cdktf resolves separately: read once.
    const roleName = role.name;
    const exclusivePolicyArns = [...managedPolicyArns].sort(compareCodeUnits);
    const exclusiveInlinePolicyNames = Object.keys(inlinePolicies).sort(compareCodeUnits);
    this.synthesized = {
      name: props.name,
      address: `aws_iam_role.${name}`,
      path,
      ...(props.description ? { description: props.description } : {}),
      maxSessionDuration,
      ...(props.permissionsBoundary ? { permissionsBoundary: props.permissionsBoundary } : {}),
      ...(props.tags && Object.keys(props.tags).length > 0 ? { tags: { ...props.tags } } : {}),
      managedPolicyArns: [...managedPolicyArns],
      // In address order, as Terraform lists the resources.
      inlinePolicyNames: Object.keys(inlinePolicies).sort((a, b) =>
        compareCodeUnits(terraformName(a), terraformName(b)),
      ),
      inlinePolicies: { ...inlinePolicies },
      exclusivePolicyArns,
      exclusiveInlinePolicyNames,
      imports: props.adopt
        ? adoptionImports(props.name, name, managedPolicyArns, Object.keys(inlinePolicies))
        : [],
      trustPolicy: {
        ...this.trustPolicy,
        Statement: this.trustPolicy.Statement.map((s) => ({
          ...s,
          Principal: { Federated: [props.provider.reference] },
        })),
      },
    };

    // Exclusive ownership: an attachment or inline policy added outside Terraform shows up in the next
    // plan and is removed by apply. Lists in code-unit order, so the HCL does not follow config order.
    // cdktf's resources, their HCL written directly in the main job's synth (two in every role).
    const attachmentsExclusive = new DirectRolePolicyAttachmentsExclusive(this, "managed-exclusive", {
      roleName,
      names: exclusivePolicyArns.map(literal),
    });
    attachmentsExclusive.overrideLogicalId(name);
    const policiesExclusive = new DirectRolePoliciesExclusive(this, "inline-exclusive", {
      roleName,
      names: exclusiveInlinePolicyNames.map(literal),
    });
    policiesExclusive.overrideLogicalId(name);

    if (props.adopt) {
      importExisting(role, literal(props.name));
      importExisting(attachmentsExclusive, literal(props.name));
      importExisting(policiesExclusive, literal(props.name));
    }
    if (managedPolicyArns.length > 0) {
      // One resource keyed by ARN: adding or removing a policy never renumbers the others.
      // cdktf writes these inside an expression (toset([...])): HCL string syntax in both formats.
      const arns = TerraformIterator.fromList(managedPolicyArns.map(expressionLiteral));
      const attachment = new IamRolePolicyAttachment(this, "managed", {
        forEach: arns,
        role: roleName,
        policyArn: arns.value,
      });
      attachment.overrideLogicalId(name);
      if (props.adopt) {
        // importFrom cannot name a for_each instance; one block per key does (Terraform's import ID
        // for an attachment is role-name/policy-arn).
        managedPolicyArns.forEach(
          (arn) =>
            new ImportBlock(this, `import-managed-${arn}`, {
              resourceAddress: `aws_iam_role_policy_attachment.${name}`,
              key: arn,
              importId: `${props.name}/${arn}`,
            }),
        );
      }
    }
    for (const [policyName, document] of Object.entries(inlinePolicies)) {
      // jsonencode of the structure, never a JSON string: cdktf's HCL output does not escape the quotes.
      const policy = new IamRolePolicy(this, `inline-${policyName}`, {
        role: roleName,
        name: literal(policyName),
        policy: Fn.jsonencode(expressionLiterals(document)),
      });
      policy.overrideLogicalId(`${name}_${terraformName(policyName)}`);
      if (props.adopt) importExisting(policy, literal(`${props.name}:${policyName}`));
    }
  }
}
