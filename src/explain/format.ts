/** The human-readable rendering of an explain result (the CLI's default output). */
import type { Difference, ExplainResult, GrantReference, RoleVerdict } from "./explain";
import { OPEN_CLAIM_FLAGS } from "./open-claims";
import type { TokenClaims } from "./token";

const PART_LABELS: Record<Difference["part"], string> = {
  issuer: "issuer",
  project: "project",
  refType: "ref type",
  ref: "ref",
  subject: "sub",
  audience: "audience",
  operator: "operator",
  principal: "principal",
  action: "action",
  condition: "condition",
  explicitDeny: "explicit deny",
};

/** Claims worth showing from a token, in this order; the rest are left out for brevity. */
const SHOWN_CLAIMS = [
  "iss",
  "sub",
  "aud",
  "project_path",
  "project_id",
  "namespace_path",
  "namespace_id",
  "ref_type",
  "ref",
  "ref_protected",
  "pipeline_source",
  "runner_environment",
  "user_access_level",
  "environment",
  "environment_protected",
  "user_login",
];

/** Claims given by flags or the lock (not a token) worth showing next to the sub. */
const STATED_CLAIMS = [
  "project_id",
  "namespace_id",
  "ref_protected",
  "pipeline_source",
  "runner_environment",
  "user_access_level",
];

function statementName(reference: GrantReference): string {
  if (reference.statementIndex < 0) return "";
  return `${reference.sid ?? `statement #${reference.statementIndex + 1}`}: `;
}

function renderVerdict(verdict: RoleVerdict, audienceGiven: boolean): string[] {
  const label = verdict.allowed ? "ALLOWED" : "DENIED ";
  const condition = verdict.dependsOn ? `  only if ${verdict.dependsOn.when}` : "";
  const lines = [
    `  ${label}  ${verdict.role}${verdict.path !== "/" ? `  (path ${verdict.path})` : ""}${condition}`,
  ];
  if (verdict.dependsOn) {
    const flags = verdict.dependsOn.claims.map((claim) => OPEN_CLAIM_FLAGS[claim] ?? claim).join(", ");
    lines.push(`           not stated, so not assumed: ${flags} decides it`);
  }
  const aud = audienceGiven ? "" : ` (aud ${verdict.audience})`;
  if (verdict.allowed && verdict.matched) {
    lines.push(`           matched ${statementName(verdict.matched)}${verdict.matched.description}${aud}`);
    if (verdict.matched.subValue !== undefined) {
      lines.push(`           sub ${verdict.matched.operator ?? ""} "${verdict.matched.subValue}"`);
    }
  } else if (verdict.closest) {
    lines.push(`           closest ${statementName(verdict.closest)}${verdict.closest.description}${aud}`);
    for (const difference of verdict.closest.differences) {
      lines.push(`           - ${PART_LABELS[difference.part]}: ${difference.message}`);
    }
    const forProject = verdict.closestForProject;
    if (forProject) {
      lines.push(`           closest for this project ${statementName(forProject)}${forProject.description}`);
      for (const difference of forProject.differences) {
        lines.push(`           - ${PART_LABELS[difference.part]}: ${difference.message}`);
      }
    }
  }
  return lines;
}

export function renderExplanation(result: ExplainResult, token?: TokenClaims): string {
  const lines: string[] = [];
  if (token) {
    lines.push("Token claims (not verified; signature not read):");
    for (const claim of SHOWN_CLAIMS) {
      if (token[claim] !== undefined) lines.push(`  ${claim}: ${JSON.stringify(token[claim])}`);
    }
    if (typeof token.exp === "number") {
      const expiry = new Date(token.exp * 1000);
      const expired =
        expiry.getTime() < Date.now() ? " (expired: STS would refuse it with ExpiredTokenException)" : "";
      lines.push(`  exp: ${expiry.toISOString()}${expired}`);
    }
    lines.push("");
  }
  lines.push(`sub: ${result.sub}`);
  lines.push(
    result.audiences
      ? `aud: ${result.audiences.join(", ")}`
      : "aud: not given; sts.amazonaws.com (the CI component's default)",
  );
  if (!token && result.stated) {
    // The claims AWS also checks on gitlab.com, as the flags and the lock gave them.
    const stated = STATED_CLAIMS.filter(
      (claim) => result.stated?.[claim] !== undefined && !result.open?.includes(claim),
    )
      .map((claim) => `${claim} ${String(result.stated?.[claim])}`)
      .join(", ");
    if (stated) lines.push(`claims: ${stated}`);
  }
  if (!token && result.open) lines.push(`not stated (not assumed): ${result.open.join(", ")}`);
  if (!result.claims) {
    lines.push(
      "note: the sub is not in GitLab's format (name:value pairs starting with project_path or project_id)",
    );
  }
  let stack: string | undefined;
  for (const verdict of result.roles) {
    if (verdict.stack !== stack) {
      stack = verdict.stack;
      lines.push("", `${verdict.stack}${verdict.accountId ? ` (account ${verdict.accountId})` : ""}`);
    }
    lines.push(...renderVerdict(verdict, result.audiences !== undefined));
  }
  const allowed = result.roles.filter((v) => v.allowed && !v.dependsOn).length;
  const conditional = result.roles.filter((v) => v.allowed && v.dependsOn).length;
  const roles = `${result.roles.length} role${result.roles.length === 1 ? "" : "s"}`;
  const more = conditional > 0 ? `, ${conditional} more only under the conditions above` : "";
  lines.push(
    "",
    result.allowed || !result.depends
      ? `${result.allowed ? "ALLOWED" : "DENIED"}: ${allowed} of ${roles} would accept this job${more}.`
      : `DEPENDS: no role surely accepts this job; ${conditional} of ${roles} would under the conditions above (state them to know).`,
  );
  return `${lines.join("\n")}\n`;
}
