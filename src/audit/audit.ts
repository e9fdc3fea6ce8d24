/**
 * The audit of one input file: which roles trust GitLab, their findings, and (for `--to-config`) their
 * conversions. Pure: text in, results out; the CLI prints them.
 */
import { stringify } from "yaml";
import { auditRole, type Finding } from "./findings";
import { gitlabTrustOf, type GitLabTrust } from "./gitlab-trust";
import { readAuditInput, type AuditedRole } from "./input";
import type { GitLabLock } from "../gitlab/lock";
import { accountIdOf, convertRole, lockOf, type Conversion, type LockEntries } from "./to-config";

export interface RoleAudit {
  readonly role: AuditedRole;
  readonly trust: GitLabTrust;
  readonly findings: readonly Finding[];
}

export interface AuditResult {
  readonly roles: readonly RoleAudit[];
  /** Names of roles that trust no GitLab provider. */
  readonly skipped: readonly string[];
}

export interface AuditOptions {
  /** Extra issuers to treat as GitLab (`https://gitlab.example.com` or `gitlab.example.com`). */
  readonly issuers?: readonly string[];
}

function gitlabRoles(roles: readonly AuditedRole[], options: AuditOptions) {
  const found: { role: AuditedRole; trust: GitLabTrust }[] = [];
  const skipped: string[] = [];
  for (const role of roles) {
    const trust = gitlabTrustOf(role, options.issuers ?? []);
    if (trust) found.push({ role, trust });
    else skipped.push(role.name);
  }
  return { found, skipped };
}

export function auditText(text: string, file: string, options: AuditOptions = {}): AuditResult {
  const { found, skipped } = gitlabRoles(readAuditInput(text, file), options);
  return {
    roles: found.map(({ role, trust }) => ({ role, trust, findings: auditRole(role, trust) })),
    skipped,
  };
}

/** `--json`: exactly `{ "roles": [ { "name", "arn", "findings": [ { "code", "severity", "message" } ] } ] }`. */
export function auditJson(result: AuditResult): string {
  const roles = result.roles.map(({ role, findings }) => ({
    name: role.name,
    arn: role.arn,
    findings: findings.map(({ code, severity, message }) => ({ code, severity, message })),
  }));
  return `${JSON.stringify({ roles }, null, 2)}\n`;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/** Linter-style text: the file, each role with its findings, a summary line. */
export function auditReport(result: AuditResult, file: string): string {
  const lines = [file];
  for (const { role, findings } of result.roles) {
    lines.push(`  ${role.name}${role.arn ? ` (${role.arn})` : ""}`);
    if (findings.length === 0) lines.push("    ok  no findings");
    for (const f of findings) lines.push(`    ${f.severity.padEnd(8)}  ${f.code.padEnd(28)}  ${f.message}`);
  }
  const all = result.roles.flatMap((r) => r.findings);
  const count = (severity: string) => all.filter((f) => f.severity === severity).length;
  lines.push(
    "",
    `${plural(result.roles.length, "GitLab role")}: ${plural(all.length, "finding")} (${count("critical")} critical, ${plural(count("error"), "error")}, ${plural(count("warning"), "warning")})`,
  );
  if (result.skipped.length > 0) {
    lines.push(
      `skipped ${plural(result.skipped.length, "role")} that trust no GitLab provider: ${result.skipped.join(", ")}` +
        (result.roles.length === 0 ? " (name a self-managed instance with --issuer URL)" : ""),
    );
  }
  return `${lines.join("\n")}\n`;
}

export interface ConfigOutput {
  /** gitlab-oidc.yaml text: one YAML document per issuer. */
  readonly yaml: string;
  /** Roles that could not be expressed, with the reason. */
  readonly refused: readonly { name: string; reason: string }[];
  /** The IDs the converted trusts pin: what gitlab-oidc.lock.yaml must hold (npm run resolve writes it). */
  readonly lock: GitLabLock;
}

type Converted = { conversion: Extract<Conversion, { ok: true }>; trust: GitLabTrust };

/** The value most conversions share (the first such, on a tie). */
function mostCommon<T>(items: readonly T[], key: (item: T) => string): string {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1])[0][0];
}

const audienceKey = (c: Converted) => JSON.stringify([...c.conversion.audiences].sort());

/** One config for the roles of one issuer that pin IDs alike (gitlab.pinIds is one setting per config). */
function configDocument(issuerHost: string, kept: Converted[]) {
  // The most common audience list is gitlab.audience; other roles name theirs (roles[].audience).
  const audienceChoice = mostCommon(kept, audienceKey);
  const audiences = kept.find((c) => audienceKey(c) === audienceChoice)!.conversion.audiences;
  const accounts = new Map<string, Record<string, unknown>[]>();
  for (const c of kept) {
    const account = accountIdOf(c.trust);
    const own = c.conversion.audiences;
    const role =
      audienceKey(c) === audienceChoice
        ? c.conversion.role
        : { ...c.conversion.role, audience: own.length === 1 ? own[0] : [...own] };
    accounts.set(account, [...(accounts.get(account) ?? []), role]);
  }
  const pinIds = kept[0].conversion.pinIds;
  return {
    config: {
      gitlab: {
        url: `https://${issuerHost}`,
        audience: audiences.length === 1 ? audiences[0] : [...audiences],
        ...(pinIds === false ? { pinIds: false } : {}),
      },
      accounts: [...accounts].map(([accountId, roles]) => ({
        name: `account-${accountId}`,
        accountId,
        region: "us-east-1",
        adopt: true,
        roles,
      })),
    },
  };
}

/** `--to-config`: the roles that convert, grouped by issuer and account, and why the others do not. */
export function toConfig(result: AuditResult, file: string): ConfigOutput {
  const refused: { name: string; reason: string }[] = [];
  const refuse = (name: string, reason: string) => refused.push({ name, reason });
  // One config per issuer and pinning (gitlab.pinIds is one setting per config).
  const groups = new Map<string, Converted[]>();
  for (const { role, trust } of result.roles) {
    const conversion = convertRole(role, trust);
    const key = `${trust.issuerHost} ${String(conversion.ok && conversion.pinIds)}`;
    if (!conversion.ok) refuse(role.name, conversion.reason);
    else groups.set(key, [...(groups.get(key) ?? []), { conversion, trust }]);
  }
  const allPins: LockEntries = { projects: {}, groups: {} };
  const documents = [...groups.values()].map((kept) => {
    const issuerHost = kept[0].trust.issuerHost;
    const document = configDocument(issuerHost, kept);
    const lockEntries: LockEntries = { projects: {}, groups: {} };
    for (const c of kept) {
      Object.assign(lockEntries.projects, c.conversion.lock.projects);
      Object.assign(lockEntries.groups, c.conversion.lock.groups);
    }
    Object.assign(allPins.projects, lockEntries.projects);
    Object.assign(allPins.groups, lockEntries.groups);
    const notes = kept.flatMap((c) =>
      c.conversion.notes.map((note) => `# ${String(c.conversion.role.name)}: ${note}`),
    );
    const pins = [
      ...Object.entries(lockEntries.projects).map(([path, id]) => `#   project ${path}: id ${id}`),
      ...Object.entries(lockEntries.groups).map(
        ([path, ids]) =>
          `#   group ${path}: id ${ids[0]}${ids.length > 1 ? `, descendants ${ids.slice(1).join(", ")}` : ""}`,
      ),
    ];
    return [
      `# gitlab-oidc.yaml for ${issuerHost}, from ${file} (npm run audit -- --to-config).`,
      "# Same access as the policies, checked token by token; review it, set each account's name and",
      "# region (IAM is global; the region is where the AWS provider and STS calls go), then plan: adopt",
      "# imports the provider and roles (docs/adopting.md).",
      ...(pins.length > 0
        ? [
            "# The policies pin these IDs; run npm run resolve and check gitlab-oidc.lock.yaml has the same:",
            ...pins,
          ]
        : []),
      ...notes,
      stringify(document.config, { lineWidth: 0 }).trimEnd(),
    ].join("\n");
  });
  const refusedText = refused.map(({ name, reason }) => `# not converted: ${name}: ${reason}`);
  const yaml = [documents.join("\n---\n"), ...(refusedText.length > 0 ? ["", ...refusedText] : [])]
    .join("\n")
    .trim();
  return { yaml: `${yaml || "# no role to convert"}\n`, refused, lock: lockOf(allPins) };
}
