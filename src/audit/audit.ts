/**
 * The audit of one input file: which roles trust GitLab, their findings, and (for `--to-config`) their
 * conversions. Pure: text in, results out; the CLI prints them.
 */
import { isDeepStrictEqual } from "node:util";
import { parseAllDocuments, stringify } from "yaml";
import { auditRole, type Finding } from "./findings";
import { gitlabTrustOf, type GitLabTrust } from "./gitlab-trust";
import { readAuditInput, withPolicyListings, type AuditedRole } from "./input";
import type { GitLabLock } from "../gitlab/lock";
import { claimValues } from "./tokens";
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
  /** `--policies`: list-attached-role-policies / list-role-policies / get-role-policy outputs for a get-role input. */
  readonly policies?: readonly { text: string; file: string }[];
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
  const roles = withPolicyListings(readAuditInput(text, file), options.policies ?? []);
  const { found, skipped } = gitlabRoles(roles, options);
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
  /** Roles converted with an added aud condition (a narrowing), with the audience added. */
  readonly narrowed: readonly { name: string; audience: string }[];
  /** Roles whose policies the input did not list (written as `unknown`; the synth refuses them). */
  readonly unknownPolicies: readonly string[];
  /** The IDs the converted trusts pin: what gitlab-oidc.lock.yaml must hold (npm run resolve writes it). */
  readonly lock: GitLabLock;
}

/** The printed output would not read back as the config it was built from: nothing is printed. */
export class OutputMismatchError extends Error {}

type Converted = { conversion: Extract<Conversion, { ok: true }>; trust: GitLabTrust };

/** The value most items share (the first such, on a tie); undefined for none. */
function mostCommon<T>(items: readonly T[], key: (item: T) => string): string | undefined {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1])[0]?.[0];
}

const audienceKey = (c: Converted) => JSON.stringify([...c.conversion.audiences].sort());

/** One config for the roles of one issuer; pinning stays per role (`pinIds: false` on the role). */
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
  return {
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
}

/**
 * Text from the input inside a `#` comment: one line, whatever it holds. A line break would end the
 * comment and make the rest YAML; every control or separator character is written as an escape.
 */
export function commentText(text: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what must not pass
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\ufeff\\]/g, (c) =>
    c === "\\" ? "\\\\" : `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/**
 * The self-check of the printed text: its documents, parsed, must be exactly the configs meant, in
 * order, and nothing else (a comment that escaped would add or change a document).
 */
export function checkReadsBack(yaml: string, meant: readonly unknown[]): void {
  const documents = parseAllDocuments(yaml);
  const problem = (why: string) =>
    new OutputMismatchError(
      `the output would not read back as the config it was built from (${why}); nothing printed`,
    );
  if (!Array.isArray(documents)) throw problem("it is not YAML");
  const contents = documents.filter((doc) => doc.contents !== null);
  if (documents.some((doc) => doc.errors.length > 0)) throw problem("it does not parse");
  if (contents.length !== meant.length) {
    throw problem(`${contents.length} documents instead of ${meant.length}`);
  }
  contents.forEach((doc, i) => {
    if (!isDeepStrictEqual(doc.toJS({ maxAliasCount: 0 }), meant[i])) {
      throw problem(`document ${i + 1} differs from what was meant`);
    }
  });
}

/** `--to-config`: the roles that convert, grouped by issuer and account, and why the others do not. */
export function toConfig(result: AuditResult, file: string): ConfigOutput {
  const refused: { name: string; reason: string }[] = [];
  const refuse = (name: string, reason: string) => refused.push({ name, reason });
  // The audience a trust without one gets: the issuer's most common among the roles that check one.
  const fallbacks = new Map<string, string>();
  for (const host of new Set(result.roles.map((r) => r.trust.issuerHost))) {
    const auds = result.roles
      .filter((r) => r.trust.issuerHost === host)
      .flatMap((r) =>
        claimValues(
          r.role.trustPolicy.statements.map((statement) => statement.conditions),
          host,
          "aud",
        ),
      );
    const common = mostCommon(auds, (aud) => aud);
    if (common !== undefined) fallbacks.set(host, common);
  }
  // One config per issuer.
  const groups = new Map<string, Converted[]>();
  for (const { role, trust } of result.roles) {
    const fallbackAudience = fallbacks.get(trust.issuerHost);
    const conversion = convertRole(role, trust, fallbackAudience ? { fallbackAudience } : {});
    if (!conversion.ok) refuse(role.name, conversion.reason);
    else groups.set(trust.issuerHost, [...(groups.get(trust.issuerHost) ?? []), { conversion, trust }]);
  }
  const allPins: LockEntries = { projects: Object.create(null), groups: Object.create(null) };
  const meant: unknown[] = [];
  const documents = [...groups.values()].map((kept) => {
    const issuerHost = kept[0].trust.issuerHost;
    const document = configDocument(issuerHost, kept);
    meant.push(document);
    const lockEntries: LockEntries = { projects: Object.create(null), groups: Object.create(null) };
    for (const c of kept) {
      Object.assign(lockEntries.projects, c.conversion.lock.projects);
      Object.assign(lockEntries.groups, c.conversion.lock.groups);
    }
    Object.assign(allPins.projects, lockEntries.projects);
    Object.assign(allPins.groups, lockEntries.groups);
    const notes = kept.flatMap((c) =>
      c.conversion.notes.map((note) => `# ${commentText(`${String(c.conversion.role.name)}: ${note}`)}`),
    );
    const pins = [
      ...Object.entries(lockEntries.projects).map(
        ([path, id]) => `#   project ${commentText(`${path}: id ${id}`)}`,
      ),
      ...Object.entries(lockEntries.groups).map(
        ([path, ids]) =>
          `#   group ${commentText(`${path}: id ${ids[0]}${ids.length > 1 ? `, descendants ${ids.slice(1).join(", ")}` : ""}`)}`,
      ),
    ];
    const narrowed = kept.filter((c) => c.conversion.addedAudience !== undefined);
    return [
      `# gitlab-oidc.yaml for ${commentText(issuerHost)}, from ${commentText(file)} (npm run audit -- --to-config).`,
      narrowed.length === 0
        ? "# Same access as the policies, checked token by token; review it, set each account's name and"
        : `# Same access as the policies, checked token by token, except ${narrowed.length} NARROWED role(s) (an aud condition added, see below); review it, set each account's name and`,
      "# region (IAM is global; the region is where the AWS provider and STS calls go), then plan: adopt",
      "# imports the provider and roles, and the plan may hold imports and trust changes only (docs/adopting.md).",
      ...(pins.length > 0
        ? [
            "# The policies pin these IDs; run npm run resolve and check gitlab-oidc.lock.yaml has the same:",
            ...pins,
          ]
        : []),
      ...notes,
      stringify(document, { lineWidth: 0 }).trimEnd(),
    ].join("\n");
  });
  const refusedText = refused.map(
    ({ name, reason }) => `# ${commentText(`not converted: ${name}: ${reason}`)}`,
  );
  const yaml = `${
    [documents.join("\n---\n"), ...(refusedText.length > 0 ? ["", ...refusedText] : [])].join("\n").trim() ||
    "# no role to convert"
  }\n`;
  checkReadsBack(yaml, meant);
  const converted = [...groups.values()].flat();
  return {
    yaml,
    refused,
    narrowed: converted.flatMap((c) =>
      c.conversion.addedAudience !== undefined
        ? [{ name: String(c.conversion.role.name), audience: c.conversion.addedAudience }]
        : [],
    ),
    unknownPolicies: converted
      .filter((c) => c.conversion.unknownPolicies.length > 0)
      .map((c) => String(c.conversion.role.name)),
    lock: lockOf(allPins),
  };
}

/** The lines `--to-config` prints to stderr: what was converted, narrowed, left unknown or refused. */
export function toConfigSummary(output: ConfigOutput, converted: number): string {
  const lines = [
    `audit --to-config: ${plural(converted, "role")} converted, ${output.refused.length} not converted`,
    ...output.narrowed.map(
      ({ name, audience }) =>
        `  NARROWED ${commentText(name)}: the trust checks no aud; the config requires aud ${JSON.stringify(audience)}, so tokens for other audiences stop working`,
    ),
    ...output.unknownPolicies.map(
      (name) =>
        `  UNKNOWN POLICIES ${commentText(name)}: the input does not list its policies; the synth refuses it until the config lists them (docs/adopting.md)`,
    ),
  ];
  return `${lines.join("\n")}\n`;
}
