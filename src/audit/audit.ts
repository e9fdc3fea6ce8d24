/**
 * The audit of one input file: which roles trust GitLab, their findings, and (for `--to-config`) their
 * conversions. Pure: text in, results out; the CLI prints them.
 */
import { stringify } from "yaml";
import { auditRole, type Finding } from "./findings";
import { gitlabTrustOf, type GitLabTrust } from "./gitlab-trust";
import { readAuditInput, type AuditedRole } from "./input";
import { accountIdOf, convertRole, type Conversion } from "./to-config";

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
}

/** `--to-config`: the roles that convert, grouped by issuer and account, and why the others do not. */
export function toConfig(result: AuditResult, file: string): ConfigOutput {
  const refused: { name: string; reason: string }[] = [];
  const byIssuer = new Map<string, { conversion: Extract<Conversion, { ok: true }>; trust: GitLabTrust }[]>();
  for (const { role, trust } of result.roles) {
    const conversion = convertRole(role, trust);
    if (!conversion.ok) {
      refused.push({ name: role.name, reason: conversion.reason });
      continue;
    }
    byIssuer.set(trust.issuerHost, [...(byIssuer.get(trust.issuerHost) ?? []), { conversion, trust }]);
  }
  const documents = [...byIssuer].map(([issuerHost, converted]) => {
    // One config has one audience list: the one most roles use; the others are refused with the reason.
    const key = (c: (typeof converted)[number]) => JSON.stringify([...c.conversion.audiences].sort());
    const counts = new Map<string, number>();
    for (const c of converted) counts.set(key(c), (counts.get(key(c)) ?? 0) + 1);
    const chosen = [...counts].sort((a, b) => b[1] - a[1])[0][0];
    const kept = converted.filter((c) => {
      if (key(c) === chosen) return true;
      refused.push({
        name: String(c.conversion.role.name),
        reason: `it requires aud ${key(c)}, other roles of ${issuerHost} ${chosen}; one config has one audience list: put it in a config of its own`,
      });
      return false;
    });
    const audiences = kept[0].conversion.audiences;
    const accounts = new Map<string, Record<string, unknown>[]>();
    for (const c of kept) {
      const account = accountIdOf(c.trust);
      accounts.set(account, [...(accounts.get(account) ?? []), c.conversion.role]);
    }
    const notes = kept.flatMap((c) =>
      c.conversion.notes.map((note) => `# ${String(c.conversion.role.name)}: ${note}`),
    );
    const config = {
      gitlab: {
        url: `https://${issuerHost}`,
        audience: audiences.length === 1 ? audiences[0] : [...audiences],
      },
      accounts: [...accounts].map(([accountId, roles]) => ({
        name: `account-${accountId}`,
        accountId,
        region: "us-east-1",
        adopt: true,
        roles,
      })),
    };
    return [
      `# gitlab-oidc.yaml for ${issuerHost}, from ${file} (npm run audit -- --to-config).`,
      "# Same access as the policies, checked token by token; review it, set each account's name and",
      "# region (IAM is global; the region is where the AWS provider and STS calls go), then plan: adopt",
      "# imports the provider and roles (docs/adopting.md).",
      ...notes,
      stringify(config, { lineWidth: 0 }).trimEnd(),
    ].join("\n");
  });
  const refusedText = refused.map(({ name, reason }) => `# not converted: ${name}: ${reason}`);
  const yaml = [documents.join("\n---\n"), ...(refusedText.length > 0 ? ["", ...refusedText] : [])]
    .join("\n")
    .trim();
  return { yaml: `${yaml || "# no role to convert"}\n`, refused };
}
