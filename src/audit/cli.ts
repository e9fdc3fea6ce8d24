/**
 * `npm run audit -- FILE [--json] [--to-config] [--issuer URL]…`: audits the GitLab trust in what the AWS
 * CLI printed, or turns it into gitlab-oidc.yaml. A thin layer over audit.ts: arguments in, text out,
 * an exit code scripts can test.
 */
import "../runtime/entry"; // first: silences cdktf's DEP0044, enables the compile cache
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { auditJson, auditReport, auditText, OutputMismatchError, toConfig, toConfigSummary } from "./audit";
import { hasCritical } from "./findings";
import { AuditInputError } from "./policy";
import { safeWriter } from "../terminal-text";

export const EXIT_OK = 0;
/** A critical finding (audit), or a role that could not be converted (--to-config). */
export const EXIT_FINDINGS = 1;
/** Usage error, unreadable or malformed input. */
export const EXIT_USAGE = 2;

export const USAGE = `Usage: npm run audit -- FILE [options]

Audits the roles in FILE that trust a GitLab OIDC provider. FILE is what the AWS CLI prints:
  aws iam get-account-authorization-details > account.json   (every role, with its policies)
  aws iam get-role --role-name NAME > role.json               (no policies: see --policies)
  a trust policy document (JSON)

Options:
  --issuer URL   also treat this issuer as GitLab (repeatable); gitlab.com and issuers whose sub
                 conditions use project_path:/project_id: are found without it
  --policies F   with get-role input: what the role has attached, from beside it (repeatable):
                 aws iam list-attached-role-policies, list-role-policies, and get-role-policy per name
  --json         print { "roles": [ { "name", "arn", "findings": [ { "code", "severity", "message" } ] } ] }
  --to-config    print the gitlab-oidc.yaml roles and grants with the same access, or why a role has none
  -h, --help     this help

Exit codes: 0 no critical finding (--to-config: every role converted), 1 a critical finding
(--to-config: a role could not be converted), 2 usage error or unreadable/malformed FILE (--to-config:
or output that would not read back as the config it was built from; nothing is printed then).
--to-config prints a summary to stderr: roles converted, NARROWED (an aud condition added to a trust
that checks none) and with UNKNOWN POLICIES (get-role lists none; the synth refuses them until listed).
Finding codes and severities: docs/adopting.md.
`;

export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

class UsageError extends Error {}

function parse(argv: readonly string[]) {
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: true,
      options: {
        json: { type: "boolean" },
        "to-config": { type: "boolean" },
        issuer: { type: "string", multiple: true },
        policies: { type: "string", multiple: true },
        help: { type: "boolean", short: "h" },
      },
    });
    if (values.help) return { help: true as const };
    if (positionals.length !== 1)
      throw new UsageError(
        positionals.length === 0 ? "name the FILE to audit" : `give one FILE, not ${positionals.length}`,
      );
    if (values.json && values["to-config"]) throw new UsageError("--to-config prints YAML; leave out --json");
    if (values.issuer?.some((issuer) => issuer.trim() === ""))
      throw new UsageError("--issuer cannot be empty");
    return {
      help: false as const,
      file: positionals[0],
      json: values.json ?? false,
      toConfig: values["to-config"] ?? false,
      issuers: values.issuer ?? [],
      policies: values.policies ?? [],
    };
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError((error as Error).message.replace(/\. To specify a positional argument.*$/s, ""));
  }
}

export function runCli(argv: readonly string[], rawIo: CliIo): number {
  // Names, ARNs and policies from the AWS CLI's output reach the terminal with control characters escaped.
  const io: CliIo = { stdout: safeWriter(rawIo.stdout), stderr: safeWriter(rawIo.stderr) };
  let args;
  try {
    args = parse(argv);
  } catch (error) {
    io.stderr(`audit: ${(error as Error).message}\n\n${USAGE}`);
    return EXIT_USAGE;
  }
  if (args.help) {
    io.stdout(USAGE);
    return EXIT_OK;
  }
  let text: string;
  try {
    text = readFileSync(args.file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    io.stderr(
      `audit: cannot read ${args.file}: ${code === "ENOENT" ? "file not found" : (code ?? (error as Error).message)}\n`,
    );
    return EXIT_USAGE;
  }
  const policies: { text: string; file: string }[] = [];
  for (const file of args.policies) {
    try {
      policies.push({ text: readFileSync(file, "utf8"), file });
    } catch (error) {
      io.stderr(
        `audit: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}\n`,
      );
      return EXIT_USAGE;
    }
  }
  try {
    const result = auditText(text, args.file, { issuers: args.issuers, policies });
    if (args.toConfig) {
      const output = toConfig(result, args.file);
      io.stdout(output.yaml);
      io.stderr(toConfigSummary(output, result.roles.length - output.refused.length));
      return output.refused.length > 0 ? EXIT_FINDINGS : EXIT_OK;
    }
    io.stdout(args.json ? auditJson(result) : auditReport(result, args.file));
    return result.roles.some((r) => hasCritical(r.findings)) ? EXIT_FINDINGS : EXIT_OK;
  } catch (error) {
    if (error instanceof OutputMismatchError) {
      io.stderr(`audit: --to-config: ${error.message}\n`);
      return EXIT_USAGE;
    }
    if (error instanceof AuditInputError) {
      io.stderr(`audit: ${args.file}: ${error.message}\n`);
      return EXIT_USAGE;
    }
    throw error;
  }
}

if (require.main === module) {
  try {
    process.exitCode = runCli(process.argv.slice(2), {
      stdout: (text) => process.stdout.write(text),
      stderr: (text) => process.stderr.write(text),
    });
  } catch (error) {
    // A bug, not the user's input: say so in one line rather than a stack trace.
    process.stderr.write(`audit: internal error: ${(error as Error).message}\n`);
    process.exitCode = EXIT_USAGE;
  }
}
