/**
 * A role's two exclusive resources (`aws_iam_role_policy_attachments_exclusive`,
 * `aws_iam_role_policies_exclusive`), their HCL written directly in its committed form: every role has
 * both, and each is one string list and the role's name (a reference), so their text is always
 *
 *     policy_arns = [          policy_names = [
 *       "…",                                         (no name: an empty line)
 *       "…"                    ]
 *     ]                        role_name = aws_iam_role.<role>.name
 *     role_name = aws_iam_role.<role>.name
 *
 * The classes are the provider's (same construct, JSON and metadata). While the main job's synth runs
 * (./direct-bodies.ts, with ./formatted-hcl.ts's committed regions), each hands cdktf that body as a
 * committed region; anything it does not cover (another attribute set, a meta-argument, an override, a
 * move or import, a token list, a value formatHcl would not leave as it is) goes through cdktf's own
 * path and formatHcl. Byte-identical to stock cdktf (test/cdktf-hooks.test.ts).
 */
import { IamRolePoliciesExclusive } from "@cdktf/provider-aws/lib/iam-role-policies-exclusive";
import { IamRolePolicyAttachmentsExclusive } from "@cdktf/provider-aws/lib/iam-role-policy-attachments-exclusive";
import { TerraformResource, TerraformStack, Tokenization } from "cdktf";
import type { Construct } from "constructs";
import { committedValue, DIRECT_BODY, directBodiesActive, resolveOnce } from "./direct-bodies";
import { committedRegion, committedRegionsOpen } from "./formatted-hcl";

/** The props of both exclusive resources, as the role construct gives them. */
export interface DirectExclusiveConfig {
  /** The role's name (its reference: `aws_iam_role.<role>.name`). */
  readonly roleName: string;
  /** The managed policy ARNs, or the inline policy names, the role has exclusively. */
  readonly names: string[];
}

export class DirectRolePolicyAttachmentsExclusive extends IamRolePolicyAttachmentsExclusive {
  private readonly given: DirectExclusiveConfig;

  constructor(scope: Construct, id: string, config: DirectExclusiveConfig) {
    super(scope, id, { roleName: config.roleName, policyArns: config.names });
    this.given = config;
  }

  public override toHclTerraform(): Record<string, unknown> {
    return directFragment(this, "policy_arns", "_policyArns", this.given) ?? super.toHclTerraform();
  }
}

export class DirectRolePoliciesExclusive extends IamRolePoliciesExclusive {
  private readonly given: DirectExclusiveConfig;

  constructor(scope: Construct, id: string, config: DirectExclusiveConfig) {
    super(scope, id, { roleName: config.roleName, policyNames: config.names });
    this.given = config;
  }

  public override toHclTerraform(): Record<string, unknown> {
    return directFragment(this, "policy_names", "_policyNames", this.given) ?? super.toHclTerraform();
  }
}

/**
 * The resource's fragment with its body as a committed region, or undefined where the direct body does
 * not apply (then cdktf renders it).
 */
function directFragment(
  resource: TerraformResource,
  listAttribute: string,
  listField: string,
  given: DirectExclusiveConfig,
): Record<string, unknown> | undefined {
  if (!directBodiesActive()) return undefined;
  const stack = TerraformStack.of(resource);
  if (!committedRegionsOpen(stack)) return undefined;
  const self = resource as unknown as Record<string, unknown> & { _buildMovedBlock(): unknown };
  // The values are still the ones given (no setter ran), and nothing else shapes the resource.
  if (self[listField] !== given.names || self._roleName !== given.roleName) return undefined;
  // cdktf's protected parts, read as the provider classes' own toHclTerraform reads them.
  const rawOverrides = self.rawOverrides as Record<string, unknown>;
  if (Object.keys(rawOverrides).length > 0 || resource.provisioners !== undefined) return undefined;
  const meta = resource.terraformMetaArguments as Record<string, unknown>;
  if (Object.values(meta).some((value) => value !== undefined)) return undefined;
  if (self._imported !== undefined || self._hasMoved || self._buildMovedBlock() !== undefined) return undefined;
  if (!Array.isArray(given.names) || Tokenization.isResolvable(given.names)) return undefined;

  const items: string[] = [];
  for (const name of given.names) {
    const written = typeof name === "string" ? committedValue(name) : undefined;
    if (written === undefined) return undefined;
    items.push(`    ${written}`);
  }
  const roleName = resolveOnce(stack, given.roleName);
  const role = typeof roleName === "string" ? committedValue(roleName) : undefined;
  if (role === undefined) return undefined;
  // No element: an empty line between the brackets, as cdktf renders an empty list.
  const body = [`  ${listAttribute} = [`, items.join(",\n"), "  ]", `  role_name = ${role}`].join("\n");
  return {
    resource: {
      [resource.terraformResourceType]: {
        [resource.friendlyUniqueId]: {
          [DIRECT_BODY]: committedRegion(stack, body)!,
          "//": self.constructNodeMetadata,
        },
      },
    },
  };
}
