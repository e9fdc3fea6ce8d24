/**
 * Terraform addresses derived from IAM names. An address must stay the same while the name does
 * (renaming an address destroys and recreates the role), so it depends on the name alone, never on
 * the order of the config.
 */

/** Orders strings by UTF-16 code units, as `Array.prototype.sort()` and hcl2json order block names. */
export function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** `gitlab-deploy-web` stays as is; characters Terraform refuses in a name (`+=,.@`) become `_`. */
export function terraformName(iamName: string): string {
  const name = iamName.replace(/[^A-Za-z0-9_-]/g, "_");
  return /^[A-Za-z_]/.test(name) ? name : `_${name}`;
}

/** `arn:aws:iam::111111111111:role/gitlab/deployer`: a role's ARN from its partition, account, path and name. */
export function roleArn(partition: string, accountId: string, path: string, name: string): string {
  return `arn:${partition}:iam::${accountId}:role${path}${name}`;
}
