/**
 * A Terraform `import` block (Terraform ≥ 1.5) for one instance of a `for_each` resource.
 *
 * cdktf 0.21's `TerraformResource.importFrom(id)` writes `to = <type>.<name>` without an instance key
 * (node_modules/cdktf/lib/terraform-resource.js, toHclTerraform), which Terraform refuses for a resource
 * with `for_each`: the target must name the instance, `<type>.<name>["key"]`. This element writes that
 * block. Both strings are escaped with the writer's own functions (src/terraform/literal.ts): the key
 * is an HCL string inside the `to` expression in either format; the ID is a quoted HCL string, or a
 * JSON template string.
 */
import { TerraformElement } from "cdktf";
import type { Construct } from "constructs";
import { escapeTemplate, hclString } from "../terraform/literal";

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
    this.to = `${props.resourceAddress}[${hclString(props.key)}]`;
    this.importId = props.importId;
  }

  public toTerraform(): Record<string, unknown> {
    return { import: [{ to: this.to, id: escapeTemplate(this.importId) }] };
  }

  public toHclTerraform(): Record<string, unknown> {
    const expression = (value: string) => ({ value, type: "simple", storageClassType: "reference" });
    return { import: [{ to: expression(this.to), id: expression(hclString(this.importId)) }] };
  }

  public toMetadata(): Record<string, unknown> {
    return {};
  }
}
