/**
 * A Terraform `import` block (Terraform ≥ 1.5) for one instance of a `for_each` resource.
 *
 * cdktf 0.21's `TerraformResource.importFrom(id)` writes `to = <type>.<name>` without an instance key
 * (node_modules/cdktf/lib/terraform-resource.js, toHclTerraform), which Terraform refuses for a resource
 * with `for_each`: the target must name the instance, `<type>.<name>["key"]`. This element writes that
 * block, with both strings escaped here (cdktf leaves a string containing `${` unescaped).
 */
import { TerraformElement } from "cdktf";
import type { Construct } from "constructs";

/** A quoted HCL string literal whose content is never read as an interpolation or a directive. */
export function hclStringLiteral(value: string): string {
  return JSON.stringify(value).replace(/\$\{/g, "$${").replace(/%\{/g, "%%{");
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
    this.to = `${props.resourceAddress}[${hclStringLiteral(props.key)}]`;
    this.importId = props.importId;
  }

  public toTerraform(): Record<string, unknown> {
    return { import: [{ to: this.to, id: this.importId }] };
  }

  public toHclTerraform(): Record<string, unknown> {
    const expression = (value: string) => ({ value, type: "simple", storageClassType: "reference" });
    return { import: [{ to: expression(this.to), id: expression(hclStringLiteral(this.importId)) }] };
  }

  public toMetadata(): Record<string, unknown> {
    return {};
  }
}
