/**
 * `terraform/ACCESS.md`: who can assume which role, written with every synth and committed next to the
 * HCL, so a merge request that widens access shows it in plain words. Everything about access is read
 * from the synthesized trust policies (what will be deployed), not from the YAML; the config only adds
 * what the HCL does not carry (the partition, for role ARNs). No timestamps: the same input renders the
 * same bytes.
 */
import type { Config } from "../config/schema";
import { stateReportLines } from "./state-report";
import { roleArn } from "../model/names";
import { parseSubjectGrant, type SubjectGrant } from "../explain/subject";
import { issuerHost, type IamConditions } from "../model/trust-policy";
import type { SynthesizedRole, SynthesizedStack } from "../terraform/synthesized-stacks";
import { grantScopeRisks, roleRisks, type Risk } from "./risks";

export type { Risk, RiskLevel } from "./risks";

/** AWS managed policies that give administrator-level power (or the power to grant it to oneself). */
const ADMIN_POLICIES: Record<string, string> = {
  AdministratorAccess: "full administrator",
  PowerUserAccess: "every service except IAM and Organizations management",
  IAMFullAccess: "can create and change IAM roles and policies, so can make itself an administrator",
  AWSOrganizationsFullAccess: "controls the AWS organization",
  "job-function/SystemAdministrator": "broad administrator job function",
  "job-function/NetworkAdministrator": "broad network administrator job function",
  "job-function/DatabaseAdministrator": "broad database administrator job function",
  "AdministratorAccess-Amplify": "administrator-level access for Amplify, including IAM",
  "AdministratorAccess-AWSElasticBeanstalk":
    "administrator-level access for Elastic Beanstalk, including IAM",
};

/** One `sub` value of a role's trust policy, as the report lists it. */
export interface GrantRow {
  readonly statement: string;
  readonly operator: string;
  readonly value: string;
  readonly grant?: SubjectGrant;
  /** The statement's other conditions the row is ANDed with (pinned IDs, ref_protected, …). */
  readonly facts: StatementFacts;
  readonly risks: readonly Risk[];
}

/** What a statement checks besides `aud` and `sub`, read from its StringEquals conditions. */
export interface StatementFacts {
  /** Pinned project IDs (`<issuer>:project_id`). */
  readonly projectIds: readonly string[];
  /** Pinned namespace IDs (`<issuer>:namespace_id`): a group and its subgroups. */
  readonly namespaceIds: readonly string[];
  /** Whether `<issuer>:ref_protected` must be "true". */
  readonly refProtected: boolean;
  /** Other `<issuer>:<claim>` conditions (pipeline_source, runner_environment, …) → values. */
  readonly other: Readonly<Record<string, readonly string[]>>;
}

/** The facts of one statement's conditions for the issuer `host`. */
export function statementFacts(conditions: IamConditions, host: string): StatementFacts {
  const equals = conditions.StringEquals ?? {};
  const values = (claim: string) => equals[`${host}:${claim}`] ?? [];
  const other = Object.fromEntries(
    Object.entries(equals)
      .filter(([key]) => key.startsWith(`${host}:`))
      .map(([key, v]) => [key.slice(host.length + 1), v] as const)
      .filter(([claim]) => !["aud", "sub", "project_id", "namespace_id", "ref_protected"].includes(claim)),
  );
  const refProtected = values("ref_protected");
  return {
    projectIds: values("project_id"),
    namespaceIds: values("namespace_id"),
    refProtected: refProtected.length > 0 && refProtected.every((v) => v === "true"),
    other,
  };
}

/** The AWS managed policy name of an ARN (`arn:aws:iam::aws:policy/job-function/X` → `job-function/X`). */
function awsManagedName(arn: string): string | undefined {
  return /^arn:[\w-]+:iam::aws:policy\/(.+)$/.exec(arn)?.[1];
}

export function adminPolicyRisk(arn: string): Risk | undefined {
  const name = awsManagedName(arn);
  // Own keys only: a policy named "constructor" is not an administrator policy.
  const reason = name !== undefined && Object.hasOwn(ADMIN_POLICIES, name) ? ADMIN_POLICIES[name] : undefined;
  if (reason === undefined) return undefined;
  return { level: "high", message: `administrator-level managed policy \`${name}\` (${reason})` };
}

/** Does the row only match protected refs (by the ref_protected key, or `ref_protected:true` in sub)? */
export function rowIsProtected(grant: SubjectGrant | undefined, facts: StatementFacts): boolean {
  return facts.refProtected || grant?.other?.ref_protected === "true";
}

/** Is the row's project pinned by an immutable ID (a condition key, or `project_id:<id>` in sub)? */
export function rowIsPinned(grant: SubjectGrant | undefined, facts: StatementFacts): boolean {
  return (
    facts.projectIds.length > 0 ||
    facts.namespaceIds.length > 0 ||
    (grant?.scope === "id" && grant.path !== "*")
  );
}

/** How the stack gets its provider: adopted (imported), created, or looked up. */
function providerModeText(stack: SynthesizedStack): string {
  if (stack.providerImport) {
    return `adopted: the existing provider ${code(stack.providerImport.id)} is imported, and its client IDs become the list below`;
  }
  return stack.providerMode === "create" ? "created by this stack" : "existing (looked up)";
}

/** What adopting a role changes, said where the role is listed. */
const ADOPTED_ROLE_NOTE =
  "**Adopted**: the existing role is imported (docs/adopting.md). Its trust policy is **replaced** by the grants below (the plan shows the before and after); its managed and inline policies become exactly the ones listed here.";

/** Risks of one `sub` value, given the statement's other conditions. */
export function grantRisks(grant: SubjectGrant | undefined, facts: StatementFacts): Risk[] {
  if (!grant) {
    return [
      {
        level: "high",
        message: "not in GitLab's sub format: review by hand what it matches",
      },
    ];
  }
  const risks: Risk[] = [];
  const isProtected = rowIsProtected(grant, facts);
  if (grant.scope === "pattern") {
    risks.push({
      level: "high",
      message: `project pattern \`${grant.projectPattern}\` can match projects outside one group (e.g. other namespaces)`,
    });
  }
  if (!rowIsPinned(grant, facts)) {
    risks.push({
      level: "medium",
      message:
        "matched by path only, not pinned by ID: when the project or group is deleted, renamed or moved, whoever takes the path next gets the role (gitlab.pinIds, or a sub claim starting with project_id)",
    });
  }
  if (grant.refType === "*") {
    risks.push(
      isProtected
        ? { level: "medium", message: "any protected ref: every protected branch and tag" }
        : {
            level: "high",
            message:
              "any ref, protected or not: every branch and tag, including unprotected branches any developer can push",
          },
    );
  } else if (grant.refType !== "branch" && grant.refType !== "tag") {
    risks.push({ level: "high", message: `unexpected ref type \`${grant.refType}\`` });
  } else if (!isProtected && !(grant.refType === "tag" && /[*?]/.test(grant.ref ?? ""))) {
    // (An unprotected tag pattern is flagged by the tag check of risks.ts.)
    risks.push({
      level: "medium",
      message:
        grant.ref !== undefined && /[*?]/.test(grant.ref)
          ? `unprotected refs allowed (protected: false) with the pattern \`${grant.ref}\`: any developer who pushes a matching ${grant.refType} gets the role`
          : `unprotected refs allowed (protected: false): a developer who can push ${grant.refType} \`${grant.ref ?? ""}\` while it is unprotected gets the role`,
    });
  }
  risks.push(...grantScopeRisks(grant, isProtected));
  return risks;
}

function subKeyOf(stack: SynthesizedStack): string {
  return `${issuerHost(stack.providerUrl)}:sub`;
}

function audKeyOf(stack: SynthesizedStack): string {
  return `${issuerHost(stack.providerUrl)}:aud`;
}

/** The role's grants, one row per `sub` value, in policy order; plus statement-level risks. */
export function roleGrants(
  stack: SynthesizedStack,
  role: SynthesizedRole,
): { rows: GrantRow[]; risks: Risk[] } {
  const rows: GrantRow[] = [];
  const risks: Risk[] = [];
  const subKey = subKeyOf(stack);
  const host = issuerHost(stack.providerUrl);
  role.trustPolicy.Statement.forEach((statement, i) => {
    const name = statement.Sid ?? `#${i + 1}`;
    if (statement.Effect !== "Allow") return;
    const subConditions = Object.entries(statement.Condition).filter(
      ([, keys]) => keys[subKey] !== undefined,
    );
    if (subConditions.length === 0) {
      risks.push({
        level: "high",
        message: `statement ${name} has no ${subKey} condition: any project on the GitLab instance that picks the right aud can assume the role`,
      });
    }
    const facts = statementFacts(statement.Condition, host);
    for (const [operator, keys] of subConditions) {
      for (const value of keys[subKey]) {
        const grant = parseSubjectGrant(value);
        const rowRisks = operator.startsWith("StringNot")
          ? [
              {
                level: "high" as const,
                message: `negated operator ${operator}: everything except this value`,
              },
            ]
          : grantRisks(grant, facts);
        rows.push({ statement: name, operator, value, ...(grant ? { grant } : {}), facts, risks: rowRisks });
      }
    }
  });
  return { rows, risks };
}

function audiencesOfRole(stack: SynthesizedStack, role: SynthesizedRole): string[] {
  const audKey = audKeyOf(stack);
  const values = role.trustPolicy.Statement.flatMap((s) =>
    Object.entries(s.Condition).flatMap(([operator, keys]) =>
      keys[audKey] !== undefined
        ? keys[audKey].map((v) => (operator === "StringEquals" ? v : `${operator} ${v}`))
        : [],
    ),
  );
  return [...new Set(values)];
}

/** Printable ASCII without `\\`, `|` or a backtick: what `code` writes between single backticks as it is. */
const PLAIN_CODE = /^[\x20-\x5b\x5d-\x5f\x61-\x7b\x7d\x7e]*$/;

/** Inline code that survives any character, and `|` inside a table cell. */
export function code(value: string): string {
  // Most values (names, ARNs, refs): nothing to escape, no backtick to out-fence (the report's hot path).
  return PLAIN_CODE.test(value) ? `\`${value}\`` : fencedCode(value);
}

/** `code` for any value: invisible characters and `\\` made visible, `|` escaped, a fence longer than any backtick run. */
export function fencedCode(value: string): string {
  const escaped = visible(value).replace(/\|/g, "\\|");
  // A fence longer than any run of backticks inside, so the value cannot close it.
  const longest = Math.max(0, ...(escaped.match(/`+/g) ?? []).map((run) => run.length));
  const fence = "`".repeat(longest + 1);
  const pad = longest > 0 ? " " : "";
  return `${fence}${pad}${escaped}${pad}${fence}`;
}

/**
 * Text a reviewer cannot misread: printable ASCII as is, every other character as its code point
 * (`Z\u{FC}rich`, `main\u{200B}`), so an invisible or look-alike character shows. Backslashes are
 * doubled so an escape in the value cannot pass for one of ours.
 */
export function visible(value: string): string {
  return value
    .replace(/\\/g, "\\\\")
    .replace(/[^\x20-\x7e]/gu, (char) => `\\u{${char.codePointAt(0)!.toString(16).toUpperCase()}}`);
}

function cell(value: string): string {
  return value.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

function whoOf(row: GrantRow): string {
  if (!row.grant) return code(row.value);
  if (row.grant.scope === "group") return `group ${code(row.grant.path)} (every project below it)`;
  if (row.grant.scope === "project") return `project ${code(row.grant.path)}`;
  if (row.grant.scope === "id") {
    return row.grant.path === "*"
      ? "projects in the pinned namespaces"
      : `project ID ${code(row.grant.path)}`;
  }
  return `projects matching ${code(row.grant.projectPattern)}`;
}

function pinnedText(row: GrantRow): string {
  if (row.facts.projectIds.length > 0) return `project ${list(row.facts.projectIds)}`;
  if (row.facts.namespaceIds.length > 0) return `namespaces ${list(row.facts.namespaceIds)}`;
  if (row.grant?.scope === "id" && row.grant.path !== "*") return `project ${code(row.grant.path)} (in sub)`;
  return "**no**";
}

function alsoRequired(row: GrantRow): string {
  const environment = environmentDemand(row.grant);
  const entries = [
    ...Object.entries(row.facts.other).map(([claim, v]) => `${claim} ${list(v)}`),
    ...(environment !== undefined && environment !== ANY_ENVIRONMENT ? [`environment: ${environment}`] : []),
  ];
  return entries.length === 0 ? "—" : entries.join("; ");
}

const ANY_ENVIRONMENT = "any environment";

/**
 * What a `sub` value demands of the job's environment, from its environment parts (GitLab puts them in
 * `sub` only for a job with an environment): undefined when it has none (jobs without an environment
 * match it), else e.g. "protected, tier `production`".
 */
export function environmentDemand(grant: SubjectGrant | undefined): string | undefined {
  const isProtected = grant?.other?.environment_protected;
  const tier = grant?.other?.deployment_tier;
  if (isProtected === undefined && tier === undefined) return undefined;
  const parts = [
    ...(isProtected !== undefined && isProtected !== "*"
      ? [isProtected === "true" ? "protected" : `environment_protected ${code(isProtected)}`]
      : []),
    ...(tier !== undefined && tier !== "*" ? [`tier ${code(tier)}`] : []),
  ];
  return parts.length === 0 ? ANY_ENVIRONMENT : parts.join(", ");
}

/** The role's environment line: which environments its grants demand, or that they demand none. */
function roleEnvironments(rows: readonly GrantRow[]): string {
  const demands = rows.map((row) => environmentDemand(row.grant));
  const demanded = [...new Set(demands.filter((d): d is string => d !== undefined && d !== ANY_ENVIRONMENT))];
  const unrestricted = demands.some((d) => d === undefined);
  if (demanded.length === 0) {
    return unrestricted
      ? "not restricted (jobs with or without an environment)"
      : "any environment (jobs without one are denied)";
  }
  const only = `only jobs deploying to an environment: ${demanded.join("; ")}`;
  return unrestricted ? `${only} for some grants; the others are not restricted` : only;
}

function refsOf(row: GrantRow): [string, string] {
  if (!row.grant) return ["—", "—"];
  if (row.grant.refType === "*") return ["any", "any ref"];
  return [row.grant.refType, code(row.grant.ref ?? "")];
}

function riskText(risks: readonly Risk[]): string {
  return risks.map((r) => `${r.level === "high" ? "⛔" : "⚠️"} ${cell(r.message)}`).join("<br>");
}

function duration(seconds: number): string {
  const hours = seconds / 3600;
  return `${seconds} s (${Number.isInteger(hours) ? hours : hours.toFixed(2)} h)`;
}

function list(values: readonly string[]): string {
  return values.length === 0 ? "none" : values.map(code).join(", ");
}

/**
 * One stack's share of the report: its lines of the risk summary, and its section as the UTF-8 bytes of
 * its lines joined by "\n". Bytes, because an incremental synth keeps the parts of unchanged stacks
 * with their records and assembles ACCESS.md (~10 MB at 5,000 roles) from them: decoding, joining and
 * encoding that much text again cost more than the rest of such a run.
 */
export interface AccessReportPart {
  readonly summary: readonly string[];
  readonly section: Uint8Array;
}

/**
 * One stack's share of the report, from its model and its account's partition alone (so a synth can
 * keep it with a reused stack's record).
 */
export function accessReportPart(stack: SynthesizedStack, partition: string): AccessReportPart {
  const summary: string[] = [];
  const sections: string[] = [];
  sections.push(
    "",
    `## ${stack.name}${stack.accountId ? ` (account ${stack.accountId})` : ""}`,
    "",
    `- OIDC provider: ${code(stack.providerUrl)}, ${providerModeText(stack)}` +
      (stack.providerAudiences ? `; client IDs ${list(stack.providerAudiences)}` : ""),
    ...(stack.region ? [`- Region: ${code(stack.region)}`] : []),
  );
  for (const role of stack.roles) {
    const { rows, risks } = roleGrants(stack, role);
    const policyRisks = [
      ...role.managedPolicyArns.flatMap((arn) => adminPolicyRisk(arn) ?? []),
      ...roleRisks(role),
    ];
    const allRisks = [...risks, ...policyRisks, ...rows.flatMap((r) => r.risks)];
    // One summary line per distinct risk: a group grant on two refs is one thing to check.
    for (const text of new Set(allRisks.map((risk) => riskText([risk])))) {
      summary.push(`| ${stack.name} | ${code(role.name)} | ${text} |`);
    }
    sections.push(
      "",
      `### ${role.name}`,
      "",
      ...(role.description ? [`Description: ${code(role.description)}`, ""] : []),
      ...((role.imports ?? []).length > 0 ? [ADOPTED_ROLE_NOTE, ""] : []),
      `- ARN: ${code(roleArn(partition, stack.accountId ?? "<account>", role.path, role.name))}`,
      `- Path: ${code(role.path)}`,
      `- Max session: ${duration(role.maxSessionDuration)}`,
      `- Audience (\`aud\`): ${list(audiencesOfRole(stack, role))}`,
      `- Managed policies: ${list(role.managedPolicyArns)}`,
      `- Inline policies: ${list(role.inlinePolicyNames)}`,
      `- Permissions boundary: ${role.permissionsBoundary ? code(role.permissionsBoundary) : "none"}`,
      `- Tags: ${
        Object.keys(role.tags ?? {}).length === 0
          ? "none"
          : Object.entries(role.tags ?? {})
              .map(([key, value]) => `${code(key)} = ${code(value)}`)
              .join(", ")
      }`,
      ...(rows.length > 0 ? [`- Environments: ${roleEnvironments(rows)}`] : []),
      ...[...risks, ...policyRisks].map((r) => `- ${riskText([r])}`),
      "",
    );
    if (rows.length === 0) {
      sections.push("No `sub` grants.");
      continue;
    }
    sections.push(
      "| Who | Ref type | Ref | Protected only | Pinned IDs | Also required | Trust policy value | Risk |",
      "|---|---|---|---|---|---|---|---|",
    );
    for (const row of rows) {
      const [refType, ref] = refsOf(row);
      sections.push(
        `| ${whoOf(row)} | ${refType} | ${ref} | ${rowIsProtected(row.grant, row.facts) ? "yes" : "**no**"} | ${pinnedText(row)} | ${alsoRequired(row)} | ${code(row.value)} (${row.operator}, ${row.statement}) | ${riskText(row.risks) || "—"} |`,
      );
    }
  }
  return { summary, section: Buffer.from(sections.join("\n")) };
}

/** The report of the stacks' models (each stack's part rendered here). */
export function renderAccessReport(config: Config, stacks: readonly SynthesizedStack[]): string {
  const partitionOf = new Map(config.accounts.map((a) => [a.name, a.partition]));
  return assembleAccessReport(
    config,
    stacks.map((stack) => accessReportPart(stack, partitionOf.get(stack.name) ?? "aws")),
  ).toString("utf8");
}

/**
 * The report's bytes from each stack's part, in stack order (parts kept from an earlier synth among
 * them): every line joined by "\n", and a final one.
 */
export function assembleAccessReport(config: Config, parts: readonly AccessReportPart[]): Buffer {
  return Buffer.concat(accessReportChunks(config, parts));
}

/**
 * The report as chunks of bytes to be written one after another (assembleAccessReport joins them): the
 * synth writes and hashes them as they are, with no copy of the whole ~10 MB.
 */
export function accessReportChunks(config: Config, parts: readonly AccessReportPart[]): Uint8Array[] {
  const lines: string[] = [
    "# Access report",
    "",
    "<!-- Generated by `npm run synth` from the synthesized trust policies; do not edit. -->",
    "",
    "Who can assume which role, read from the trust policies in `stacks/*/cdk.tf` (what Terraform deploys).",
    "A GitLab job gets a role when its ID token's `sub` matches a row below, every other condition of the",
    "row holds (pinned project or namespace IDs, protected ref, pipeline source), and its `aud` is one of",
    "the role's audiences. Paths are not identities (a freed path can be taken by anyone) and branch",
    "names are not protection (any developer can push an unprotected branch): rows without pinned IDs or",
    "without protection are flagged. To check one job, run",
    "`npm run explain -- --project <path> --branch <name>` (see docs/explain.md).",
    "",
    "Legend: ⛔ high risk, ⚠️ review.",
  ];

  const summary = parts.flatMap((part) => part.summary);
  // With a project_id-first sub, pinIds changes nothing: projects are pinned in sub, groups by namespace.
  if (config.gitlab.pinIds === false && config.gitlab.subClaim?.[0] !== "project_id") {
    summary.unshift(
      `| all | all | ⚠️ gitlab.pinIds: false: grants match projects and groups by path only, so a recycled path gets their roles |`,
    );
  }
  lines.push("", "## Risky grants", "");
  if (summary.length === 0) lines.push("None found.");
  else lines.push("| Account | Role | Risk |", "|---|---|---|", ...summary);
  const newline = Buffer.from("\n");
  const chunks: Uint8Array[] = [Buffer.from(lines.join("\n"))];
  // A section is never empty (it starts with its heading), so joining chunks joins their lines.
  for (const part of parts) chunks.push(newline, part.section);
  const state = stateReportLines(config);
  if (state.length > 0) chunks.push(newline, Buffer.from(state.join("\n")));
  chunks.push(newline);
  return chunks;
}
