/**
 * What the AWS CLI prints → the roles to audit. Recognised shapes:
 * - `aws iam get-account-authorization-details`: `{ "RoleDetailList": [ … ] }` (with the attached
 *   managed and inline policies, no description or session duration);
 * - `aws iam get-role`: `{ "Role": { … } }`; `aws iam list-roles`: `{ "Roles": [ … ] }`;
 * - a bare trust policy document: `{ "Version": …, "Statement": … }` (named after the file).
 * Policy documents may be JSON objects or (URL-encoded) JSON strings.
 */
import { basename } from "node:path";
import { AuditInputError, policyDocumentValue, readPolicy, type AuditPolicy } from "./policy";

export interface AuditedRole {
  readonly name: string;
  /** The role's ARN; null for a bare policy document. */
  readonly arn: string | null;
  readonly path?: string;
  readonly description?: string;
  readonly maxSessionDuration?: number;
  readonly permissionsBoundary?: string;
  readonly tags?: Readonly<Record<string, string>>;
  /** Attached managed policy ARNs; undefined when the input does not say (get-role, list-roles). */
  readonly managedPolicyArns?: readonly string[];
  /** Inline policies by name; undefined when the input does not say. */
  readonly inlinePolicies?: Readonly<Record<string, Record<string, unknown>>>;
  readonly trustPolicy: AuditPolicy;
}

type Json = unknown;

function isObject(value: Json): value is Record<string, Json> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function optionalString(role: Record<string, Json>, key: string, where: string): string | undefined {
  const value = role[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") throw new AuditInputError(`${where}.${key} must be a string`);
  return value;
}

function readRole(raw: Json, where: string): AuditedRole {
  if (!isObject(raw)) throw new AuditInputError(`${where} must be a role object`);
  const name = optionalString(raw, "RoleName", where);
  if (!name) throw new AuditInputError(`${where} has no RoleName`);
  const at = `${where} (${name})`;
  if (raw.AssumeRolePolicyDocument === undefined) {
    throw new AuditInputError(`${at} has no AssumeRolePolicyDocument`);
  }
  const trust = policyDocumentValue(raw.AssumeRolePolicyDocument, `${at}.AssumeRolePolicyDocument`);
  const arn = optionalString(raw, "Arn", at) ?? null;
  const path = optionalString(raw, "Path", at);
  const description = optionalString(raw, "Description", at);
  const boundary = isObject(raw.PermissionsBoundary)
    ? raw.PermissionsBoundary.PermissionsBoundaryArn
    : undefined;
  const tags = Array.isArray(raw.Tags)
    ? Object.fromEntries(
        raw.Tags.filter(isObject).map((tag) => [String(tag.Key), String(tag.Value ?? "")] as const),
      )
    : undefined;
  const managed = Array.isArray(raw.AttachedManagedPolicies)
    ? raw.AttachedManagedPolicies.map((policy, i) => {
        const policyArn = isObject(policy) ? policy.PolicyArn : undefined;
        if (typeof policyArn !== "string") {
          throw new AuditInputError(`${at}.AttachedManagedPolicies[${i}] has no PolicyArn`);
        }
        return policyArn;
      })
    : undefined;
  const inline = Array.isArray(raw.RolePolicyList)
    ? Object.fromEntries(
        raw.RolePolicyList.map((policy, i) => {
          const inlineAt = `${at}.RolePolicyList[${i}]`;
          if (!isObject(policy) || typeof policy.PolicyName !== "string") {
            throw new AuditInputError(`${inlineAt} has no PolicyName`);
          }
          return [
            policy.PolicyName,
            policyDocumentValue(policy.PolicyDocument, `${inlineAt}.PolicyDocument`),
          ];
        }),
      )
    : undefined;
  return {
    name,
    arn,
    ...(path !== undefined ? { path } : {}),
    ...(description !== undefined ? { description } : {}),
    ...(typeof raw.MaxSessionDuration === "number" ? { maxSessionDuration: raw.MaxSessionDuration } : {}),
    ...(typeof boundary === "string" ? { permissionsBoundary: boundary } : {}),
    ...(tags !== undefined ? { tags } : {}),
    ...(managed !== undefined ? { managedPolicyArns: managed } : {}),
    ...(inline !== undefined ? { inlinePolicies: inline } : {}),
    trustPolicy: readPolicy(trust, `${at}.AssumeRolePolicyDocument`),
  };
}

/** `Unexpected token } in JSON at position 42` → the line and column of position 42. */
function jsonErrorLocation(text: string, error: Error): string {
  const position = /position (\d+)/.exec(error.message)?.[1];
  if (position === undefined) return error.message;
  const before = text.slice(0, Number(position));
  const line = before.split("\n").length;
  const col = Number(position) - before.lastIndexOf("\n");
  return `line ${line}, column ${col}: ${error.message.replace(/ in JSON at position \d+.*$/, "")}`;
}

/** Parses the text of `file` (for messages and a bare document's name) into the roles it holds. */
export function readAuditInput(text: string, file: string): AuditedRole[] {
  let json: Json;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new AuditInputError(
      `not JSON (${jsonErrorLocation(text, error as Error)}); give what the AWS CLI prints with --output json`,
    );
  }
  if (!isObject(json)) {
    throw new AuditInputError(
      "expected a JSON object: get-account-authorization-details, get-role or a policy document",
    );
  }
  if (json.RoleDetailList !== undefined) {
    if (!Array.isArray(json.RoleDetailList)) throw new AuditInputError("RoleDetailList must be a list");
    return json.RoleDetailList.map((role, i) => readRole(role, `RoleDetailList[${i}]`));
  }
  if (json.Roles !== undefined) {
    if (!Array.isArray(json.Roles)) throw new AuditInputError("Roles must be a list");
    return json.Roles.map((role, i) => readRole(role, `Roles[${i}]`));
  }
  if (json.Role !== undefined) return [readRole(json.Role, "Role")];
  if (json.Statement !== undefined) {
    const name = basename(file).replace(/\.json$/i, "");
    return [{ name, arn: null, trustPolicy: readPolicy(json, "the policy document") }];
  }
  throw new AuditInputError(
    `found none of RoleDetailList (aws iam get-account-authorization-details), Role (aws iam get-role), Roles (aws iam list-roles) or Statement (a trust policy document); top-level keys: ${Object.keys(json).join(", ") || "none"}`,
  );
}

/**
 * What `--policies FILE` adds to a role read from `aws iam get-role` (which lists no policies):
 * `aws iam list-attached-role-policies` (`AttachedPolicies`: the managed policies), `aws iam
 * list-role-policies` (`PolicyNames`: the inline policies' names) and `aws iam get-role-policy`
 * (`RoleName`, `PolicyName`, `PolicyDocument`: one inline policy). The managed policies are known with the
 * first; the inline ones with the second plus one get-role-policy per name it lists.
 */
export function withPolicyListings(
  roles: readonly AuditedRole[],
  listings: readonly { text: string; file: string }[],
): AuditedRole[] {
  if (listings.length === 0) return [...roles];
  if (roles.length !== 1) {
    throw new AuditInputError(
      `--policies goes with the output of aws iam get-role for one role (this input holds ${roles.length}); get-account-authorization-details lists every role's policies itself`,
    );
  }
  const role = roles[0];
  let managed: string[] | undefined;
  let inlineNames: string[] | undefined;
  const documents = new Map<string, Record<string, unknown>>();
  for (const { text, file } of listings) {
    let json: Json;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw new AuditInputError(`${file}: not JSON (${jsonErrorLocation(text, error as Error)})`);
    }
    if (!isObject(json)) throw new AuditInputError(`${file}: expected a JSON object`);
    if (json.IsTruncated === true) {
      throw new AuditInputError(
        `${file}: the list is truncated (IsTruncated); run the command without --max-items so it lists everything`,
      );
    }
    if (Array.isArray(json.AttachedPolicies)) {
      managed = json.AttachedPolicies.map((policy, i) => {
        const arn = isObject(policy) ? policy.PolicyArn : undefined;
        if (typeof arn !== "string")
          throw new AuditInputError(`${file}: AttachedPolicies[${i}] has no PolicyArn`);
        return arn;
      });
    } else if (Array.isArray(json.PolicyNames)) {
      inlineNames = json.PolicyNames.map((name, i) => {
        if (typeof name !== "string")
          throw new AuditInputError(`${file}: PolicyNames[${i}] must be a string`);
        return name;
      });
    } else if (typeof json.PolicyName === "string" && json.PolicyDocument !== undefined) {
      if (json.RoleName !== role.name) {
        throw new AuditInputError(
          `${file}: get-role-policy output for role ${JSON.stringify(json.RoleName)}, not ${JSON.stringify(role.name)}`,
        );
      }
      documents.set(json.PolicyName, policyDocumentValue(json.PolicyDocument, `${file}: PolicyDocument`));
    } else {
      throw new AuditInputError(
        `${file}: found none of AttachedPolicies (aws iam list-attached-role-policies), PolicyNames (aws iam list-role-policies) or PolicyName and PolicyDocument (aws iam get-role-policy)`,
      );
    }
  }
  let inline: Record<string, Record<string, unknown>> | undefined;
  if (inlineNames !== undefined) {
    const missing = inlineNames.filter((name) => !documents.has(name));
    if (missing.length > 0) {
      throw new AuditInputError(
        `list-role-policies names ${missing.map((m) => JSON.stringify(m)).join(", ")}; give each one's aws iam get-role-policy --role-name ${role.name} --policy-name NAME output with --policies too`,
      );
    }
    inline = Object.fromEntries(inlineNames.map((name) => [name, documents.get(name)!]));
  }
  return [
    {
      ...role,
      ...(managed !== undefined ? { managedPolicyArns: managed } : {}),
      ...(inline !== undefined ? { inlinePolicies: inline } : {}),
    },
  ];
}
