/**
 * Adoption without surprises: an adopted role's managed and inline policies are managed exclusively, so
 * the first apply detaches (or deletes) whatever the live role has that the config does not list. The
 * config must therefore *say* which policies an adopted role has: both keys written out, `[]` / `{}`
 * on purpose for none. `npm run audit -- --to-config` writes `unknown` where its input could not tell
 * (`aws iam get-role` lists no policies); the loader refuses that until someone fills it in.
 * Read from the raw document, before the schema's defaults hide whether a key was written.
 */
import type { Problem } from "./rules";

/** The value `--to-config` writes for policies its input did not list. */
export const UNKNOWN_POLICIES = "unknown";

/** The schema's message for `unknown`; the loader drops it for adoptedPolicyProblems' own, which names the role. */
export const UNKNOWN_POLICIES_ISSUE = "unknown policies (see the role's own message)";

export const ADOPTED_POLICY_KEYS = ["managedPolicyArns", "inlinePolicies"] as const;
export type AdoptedPolicyKey = (typeof ADOPTED_POLICY_KEYS)[number];

const HOW_TO_LIST: Record<AdoptedPolicyKey, (role: string) => string> = {
  managedPolicyArns: (role) =>
    `list them (aws iam list-attached-role-policies --role-name ${role}), or write managedPolicyArns: [] if it should have none`,
  inlinePolicies: (role) =>
    `list them (aws iam list-role-policies --role-name ${role}, then get-role-policy), or write inlinePolicies: {} if it should have none`,
};

const WHAT: Record<AdoptedPolicyKey, string> = {
  managedPolicyArns: "managed policies",
  inlinePolicies: "inline policies",
};

/** Why `unknown` is refused, naming the role. */
export function unknownPoliciesMessage(key: AdoptedPolicyKey, role: string): string {
  return `unknown: npm run audit's input (aws iam get-role) did not list the ${WHAT[key]} of role "${role}", and applying a wrong list would ${key === "managedPolicyArns" ? "detach" : "delete"} what the live role has; ${HOW_TO_LIST[key](role)}`;
}

/** Whether a role (raw or parsed) is adopted: its own `adopt`, else its account's. */
export function isAdopted(role: { adopt?: unknown }, account: { adopt?: unknown }): boolean {
  return (typeof role.adopt === "boolean" ? role.adopt : account.adopt) === true;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * Roles whose `managedPolicyArns` or `inlinePolicies` say `unknown`, and adopted roles that leave either
 * out: the default (none) would detach every policy the live role has. Paths point at the role's `adopt` (or its name) so the loader can
 * give the line.
 */
export function adoptedPolicyProblems(data: unknown): Problem[] {
  if (!isRecord(data) || !Array.isArray(data.accounts)) return [];
  const problems: Problem[] = [];
  data.accounts.forEach((account, i) => {
    if (!isRecord(account) || !Array.isArray(account.roles)) return;
    account.roles.forEach((role, r) => {
      if (!isRecord(role)) return;
      const name = typeof role.name === "string" ? role.name : `roles[${r}]`;
      for (const key of ADOPTED_POLICY_KEYS) {
        if (role[key] === UNKNOWN_POLICIES)
          problems.push({
            path: ["accounts", i, "roles", r, key],
            message: unknownPoliciesMessage(key, name),
          });
      }
      if (!isAdopted(role, account)) return;
      const at = ["accounts", i, "roles", r, Object.hasOwn(role, "adopt") ? "adopt" : "name"];
      for (const key of ADOPTED_POLICY_KEYS) {
        if (Object.hasOwn(role, key)) continue;
        problems.push({
          path: at,
          message: `role "${name}" is adopted, but the config does not say which ${WHAT[key]} it has: the first apply would ${key === "managedPolicyArns" ? "detach every managed policy" : "delete every inline policy"} the live role has. Write ${key} for it: ${HOW_TO_LIST[key](name)}${Object.hasOwn(role, "adopt") ? "" : `. If "${name}" is a new role, write adopt: false on it (the account's adopt: true would write import blocks for a role that does not exist)`}`,
        });
      }
    });
  });
  return problems;
}

/**
 * Combinations that can only fail at apply: a role adopted (so it exists, and so does the provider it
 * trusts) in an account whose stack creates the provider (EntityAlreadyExists). Adopt the provider too
 * (`adopt: true` on the account) or look it up (`provider: existing`).
 */
export function providerAdoptionProblems(
  account: {
    readonly provider: "create" | "existing";
    readonly adopt?: boolean;
    readonly roles: readonly { readonly name: string; readonly adopt?: boolean }[];
  },
  path: readonly (string | number)[],
): Problem[] {
  if (account.provider !== "create" || account.adopt === true) return [];
  return account.roles.flatMap((role, r) =>
    role.adopt === true
      ? [
          {
            path: [...path, "roles", r, "adopt"],
            message: `role "${role.name}" is adopted, so the GitLab provider it trusts already exists, but this account creates the provider (provider: create without adopt on the account): apply would fail with EntityAlreadyExists. Write provider: existing on the account (look the provider up), or adopt: true on the account (import it) with adopt: false on its new roles`,
          },
        ]
      : [],
  );
}
