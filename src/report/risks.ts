/**
 * What a reviewer of `ACCESS.md` must not miss, beyond who matches a trust policy: grants that reach
 * further than they read (group grants, tag patterns) and inline policies with administrator-level
 * reach or that IAM will refuse. Each check is a pure function of what will be deployed; add a check
 * by adding a function to `GRANT_CHECKS` or `ROLE_CHECKS`.
 */
import type { SubjectGrant } from "../explain/subject";
import type { SynthesizedRole } from "../terraform/synthesized-stacks";

export type RiskLevel = "high" | "medium";

export interface Risk {
  readonly level: RiskLevel;
  readonly message: string;
}

/** A group grant admits every project below the group, including ones created tomorrow. */
function groupGrantRisks(grant: SubjectGrant): Risk[] {
  // With a project_id-first sub a group grant is `project_id:*` plus the group's namespace IDs.
  if (grant.scope === "id" && grant.path === "*") {
    return [
      {
        level: "medium",
        message:
          "group grant (`project_id:*` in the pinned namespaces): anyone allowed to create a project in the group or a subgroup gets this role from that project's pipelines; check who may create projects there",
      },
    ];
  }
  if (grant.scope !== "group") return [];
  return [
    {
      level: "medium",
      message: `group grant: anyone allowed to create a project in \`${grant.path}\` or a subgroup gets this role from that project's pipelines; check who may create projects there`,
    },
  ];
}

/**
 * GitLab lets Developers create tags unless a protected-tag rule covers the name. A protected-only grant
 * (the trust policy requires ref_protected) does not let such a tag in; one with `protected: false` does.
 */
function tagGrantRisks(grant: SubjectGrant, protectedOnly: boolean): Risk[] {
  if (protectedOnly) return [];
  if (grant.refType !== "tag" || grant.ref === undefined || !/[*?]/.test(grant.ref)) return [];
  if (grant.ref === "*") {
    return [
      {
        level: "high",
        message:
          "any tag, protected or not (protected: false): anyone who can push a tag gets the role (Developers can, unless protected tags restrict it)",
      },
    ];
  }
  return [
    {
      level: "medium",
      message: `wildcard tag pattern \`${grant.ref}\` with unprotected refs allowed (protected: false): anyone who can push a matching tag gets the role (Developers can, unless protected tags restrict it); protect every tag it matches, or drop protected: false`,
    },
  ];
}

/**
 * Checks of one `sub` grant, in addition to the ref and project checks of the report; `protectedOnly`
 * says whether the statement only lets protected refs in.
 */
export const GRANT_CHECKS: readonly ((grant: SubjectGrant, protectedOnly: boolean) => Risk[])[] = [
  groupGrantRisks,
  tagGrantRisks,
];

export function grantScopeRisks(grant: SubjectGrant, protectedOnly = false): Risk[] {
  return GRANT_CHECKS.flatMap((check) => check(grant, protectedOnly));
}

type Statement = Readonly<Record<string, unknown>>;

function listOf(value: unknown): string[] {
  return value === undefined ? [] : (Array.isArray(value) ? value : [value]).map(String);
}

function statementsOf(document: unknown): Statement[] {
  const statement = (document as { Statement?: unknown } | undefined)?.Statement;
  return (Array.isArray(statement) ? statement : statement ? [statement] : []) as Statement[];
}

/** Actions that only read, by IAM's naming (Get*, List*, Describe*, …); anything else may write. */
const READ_ONLY_ACTION =
  /^[\w-]+:(Get|List|Describe|Head|BatchGet|Query|Scan|Select|View|Lookup|Search|Read)/;

const escalations: [RegExp, string][] = [
  [/^\*$/, "`Action: *`: every action on every service, i.e. administrator"],
  [/^iam:\*$/i, "`iam:*`: can create and change IAM roles and policies, so can make itself an administrator"],
];

/** Administrator-level reach, and what IAM will refuse, in one inline (identity) policy. */
export function inlinePolicyRisks(name: string, document: unknown): Risk[] {
  const risks: Risk[] = [];
  const at = (level: RiskLevel, message: string) =>
    risks.push({ level, message: `inline policy \`${name}\`: ${message}` });
  statementsOf(document).forEach((statement, i) => {
    const which =
      typeof statement.Sid === "string" && statement.Sid !== "" ? statement.Sid : `Statement[${i}]`;
    for (const key of ["Principal", "NotPrincipal"]) {
      if (Object.hasOwn(statement, key)) {
        at("high", `${which} has \`${key}\`, which IAM refuses in an identity policy: the apply fails`);
      }
    }
    if (statement.Effect !== "Allow") return;
    const actions = listOf(statement.Action);
    const resources = listOf(statement.Resource);
    for (const [pattern, why] of escalations) {
      if (actions.some((action) => pattern.test(action))) at("high", `${which} allows ${why}`);
    }
    if (statement.NotAction !== undefined) {
      at(
        "high",
        `${which} allows \`NotAction\`: every action except ${listOf(statement.NotAction).join(", ")}`,
      );
    }
    if (statement.NotResource !== undefined) {
      at(
        "medium",
        `${which} allows \`NotResource\`: every resource except ${listOf(statement.NotResource).join(", ")}`,
      );
    }
    if (!resources.includes("*")) return;
    if (actions.some((action) => /^sts:(\*|AssumeRole\*?)$/i.test(action))) {
      at("high", `${which} allows \`sts:AssumeRole\` on \`*\`: any role in any account that trusts this one`);
    }
    const writes = actions.filter((action) => action !== "*" && !READ_ONLY_ACTION.test(action));
    if (writes.length > 0) {
      at(
        "high",
        `${which} allows write actions on \`Resource: *\` (${writes.join(", ")}): every resource of the account`,
      );
    }
  });
  return risks;
}

/** Checks of one role as deployed. */
export const ROLE_CHECKS: readonly ((role: SynthesizedRole) => Risk[])[] = [
  (role) =>
    Object.entries(role.inlinePolicies ?? {}).flatMap(([name, document]) =>
      inlinePolicyRisks(name, document),
    ),
];

export function roleRisks(role: SynthesizedRole): Risk[] {
  return ROLE_CHECKS.flatMap((check) => check(role));
}
