/**
 * A Terraform `import` block (Terraform ≥ 1.5) for one instance of a `for_each` resource.
 *
 * cdktf 0.21's `TerraformResource.importFrom(id)` writes `to = <type>.<name>` without an instance key
 * (node_modules/cdktf/lib/terraform-resource.js, toHclTerraform), which Terraform refuses for a resource
 * with `for_each`: the target must name the instance, `<type>.<name>["key"]`. This element writes that
 * block. The key is an HCL string inside the `to` expression in either format, and the HCL `id` a
 * quoted HCL string, both written by `staticHclString`: cdktf quotes any attribute value containing
 * `${` once more (cdktf/lib/hcl/render.js), so the template escape `$${` cannot be used here and `$`, `%`
 * before `{` are written as `\u0024`, `\u0025`. The JSON `id` is a template string (`$${`).
 */
import { TerraformElement, type TerraformResource } from "cdktf";
import type { Construct } from "constructs";
import { escapeTemplate, hclStringBody } from "../terraform/literal";

/**
 * `resource.importFrom(id)` without the `terraform version` probe cdktf adds with it. cdktf runs
 * `terraform version` during the synth to check for ≥ 1.5, so a synth with `adopt: true` would fail
 * wherever terraform is not installed (a fresh clone, the pipeline's Node image). The synth only writes
 * files; Terraform ≥ 1.5 applies them (docs/deploying.md), and an older one refuses the import block.
 */
export function importExisting(resource: TerraformResource, id: string): void {
  const validations = (resource.node as unknown as { _validations?: unknown[] })._validations;
  if (!Array.isArray(validations)) {
    throw new Error(
      "constructs no longer keeps Node._validations: revisit importExisting (src/constructs/import-block.ts)",
    );
  }
  const before = validations.length;
  resource.importFrom(id);
  validations.splice(before);
}

/** `value` as a quoted HCL string with no `${` or `%{` in its text: every escape is a \u escape. */
export function staticHclString(value: string): string {
  return `"${hclStringBody(value)
    .replace(/\$\$\{/g, "\\u0024{")
    .replace(/%%\{/g, "\\u0025{")}"`;
}

export interface ImportBlockProps {
  /** The resource's address without the key, e.g. `aws_iam_role_policy_attachment.deploy`. */
  readonly resourceAddress: string;
  /** The `for_each` key of the instance to import. */
  readonly key: string;
  /** The resource type's import ID, e.g. `role-name/policy-arn`. */
  readonly importId: string;
}

export class ImportBlock extends TerraformElement {
  /** The import target as Terraform writes it: `aws_iam_role_policy_attachment.deploy["arn:…"]`. */
  public readonly to: string;
  public readonly importId: string;

  constructor(scope: Construct, id: string, props: ImportBlockProps) {
    super(scope, id, "import");
    this.to = `${props.resourceAddress}[${staticHclString(props.key)}]`;
    this.importId = props.importId;
  }

  public toTerraform(): Record<string, unknown> {
    return { import: [{ to: this.to, id: escapeTemplate(this.importId) }] };
  }

  public toHclTerraform(): Record<string, unknown> {
    const expression = (value: string) => ({ value, type: "simple", storageClassType: "reference" });
    return { import: [{ to: expression(this.to), id: expression(staticHclString(this.importId)) }] };
  }

  public toMetadata(): Record<string, unknown> {
    return {};
  }
}
