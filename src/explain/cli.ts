/**
 * `npm run explain -- --project acme/web --branch main` (or `--tag v1.2.0`, `--sub …`, `--token FILE|-`):
 * for every role of the synthesized stacks, ALLOWED or DENIED and why. A thin layer over
 * explainAccess(): arguments in, text or JSON out, and an exit code scripts can test.
 */
import "../runtime/entry"; // first: silences cdktf's DEP0044, enables the compile cache
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { lockPathFor, readLockFor, type GitLabLock } from "../gitlab/lock";
import type { Job } from "./explain";
import { DEFAULT_SUB_CLAIM, USER_ACCESS_LEVELS, type SubClaimComponent } from "../model/claims";
import { formatSubject } from "../model/subjects";
import { readSynthesizedStacks } from "../terraform/synthesized-stacks";
import { explainAccess, jobClaims, lockedClaims, NoRoleSelectedError, type ExplainRequest } from "./explain";
import { parseSubjectClaim } from "./subject";
import { renderExplanation } from "./format";
import { audiencesOf, decodeTokenClaims, TokenError, type TokenClaims } from "./token";

export const EXIT_ALLOWED = 0;
export const EXIT_ERROR = 1;
export const EXIT_USAGE = 2;
export const EXIT_DENIED = 3;

export const DEFAULT_DIR = "terraform";

export const USAGE = `Usage: npm run explain -- <job> [options]

Would this GitLab job get the role, and if not, why? Reads the synthesized stacks (--dir).

The job, one of:
  --project PATH (--branch NAME | --tag NAME)   a pipeline of project PATH on a branch or tag; its sub
                                                is formatted with the config's gitlab.subClaim
  --sub SUB                                     a raw sub claim, e.g. project_path:acme/web:ref_type:branch:ref:main
  --token FILE|-                                a GitLab ID token (JWT) from a file or stdin; its
                                                claims are decoded, never verified

The job's other claims (AWS checks them on gitlab.com; ignored with --token, which has its own):
  --protected | --unprotected   whether the branch or tag is protected (default: protected)
  --project-id ID               the project's ID (default: from gitlab-oidc.lock.yaml)
  --namespace-id ID             its namespace's ID (default: from the lock)
  --pipeline-source SOURCE      e.g. push, web, merge_request_event (default: push)
  --runner-environment ENV      gitlab-hosted or self-hosted (default: self-hosted)
  --user-access-level LEVEL     the project role of the user the job runs as: guest, planner, reporter,
                                developer, maintainer or owner (default: developer)

Options:
  --aud AUD        the token's audience (repeatable); default: each account's GitLab URL
  --role NAME|ARN  only roles with this name (a role ARN also selects its account)
  --account NAME   only this account (stack name or 12-digit id)
  --dir DIR        synth output directory (default: terraform; synthesized first if it has no manifest.json)
  --json           machine-readable output
  -h, --help       this help

Exit codes: 0 at least one selected role is allowed, 3 every selected role is denied,
2 usage error, 1 other error.
`;

/** `arn:aws:iam::111111111111:role/gitlab/deploy` → account and role name (the path is dropped). */
const ROLE_ARN = /^arn:[\w-]+:iam::(\d{12}):role\/(?:[\x21-\x7e]*\/)?([\w+=,.@-]+)$/;

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly readStdin: () => Promise<string>;
}

export interface ParsedArguments {
  readonly help: boolean;
  readonly json: boolean;
  readonly dir: string;
  /** The job as a `sub`, unless it comes from a token. */
  readonly sub?: string;
  readonly tokenSource?: string;
  readonly audiences?: string[];
  readonly role?: string;
  readonly account?: string;
  /** For --project: the job, so its sub can be formatted with the config's sub claim components. */
  readonly job?: Job;
  /** Claims stated by flags (ref_protected, project_id, …); for --token, the token's own are used. */
  readonly claims?: Readonly<Record<string, string>>;
}

const ID = /^[1-9]\d{0,18}$/;

export function parseArguments(argv: readonly string[]): ParsedArguments {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        project: { type: "string" },
        branch: { type: "string" },
        tag: { type: "string" },
        sub: { type: "string" },
        token: { type: "string" },
        aud: { type: "string", multiple: true },
        role: { type: "string" },
        account: { type: "string" },
        protected: { type: "boolean" },
        unprotected: { type: "boolean" },
        "project-id": { type: "string" },
        "namespace-id": { type: "string" },
        "pipeline-source": { type: "string" },
        "runner-environment": { type: "string" },
        "user-access-level": { type: "string" },
        dir: { type: "string" },
        json: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (error) {
    const message = (error as Error).message.replace(/\. To specify a positional argument.*$/s, "");
    throw new UsageError(message);
  }
  // A role ARN, as the CI component prints it, names both the account and the role.
  const arn = values.role !== undefined ? ROLE_ARN.exec(values.role) : null;
  if (arn && values.account !== undefined && values.account !== arn[1]) {
    throw new UsageError(`--account ${values.account} contradicts the account of --role ${values.role}`);
  }
  const role = arn ? arn[2] : values.role;
  const account = arn ? arn[1] : values.account;
  const common = {
    help: values.help ?? false,
    json: values.json ?? false,
    dir: values.dir ?? DEFAULT_DIR,
    ...(values.aud ? { audiences: values.aud } : {}),
    ...(role !== undefined ? { role } : {}),
    ...(account !== undefined ? { account } : {}),
  };
  if (common.help) return common;

  const sources = [
    values.project !== undefined || values.branch !== undefined || values.tag !== undefined
      ? "--project"
      : "",
    values.sub !== undefined ? "--sub" : "",
    values.token !== undefined ? "--token" : "",
  ].filter(Boolean);
  if (sources.length === 0) {
    throw new UsageError(
      "say which job: --project PATH with --branch or --tag, --sub SUB, or --token FILE|-",
    );
  }
  if (sources.length > 1) throw new UsageError(`give only one of ${sources.join(", ")}`);
  for (const [flag, value] of Object.entries({
    sub: values.sub,
    role: values.role,
    account: values.account,
  })) {
    if (value === "") throw new UsageError(`--${flag} cannot be empty`);
  }
  if (values.aud?.some((a) => a === "")) throw new UsageError("--aud cannot be empty");
  if (values.protected && values.unprotected)
    throw new UsageError("give --protected or --unprotected, not both");
  for (const flag of ["project-id", "namespace-id"] as const) {
    if (values[flag] !== undefined && !ID.test(values[flag])) {
      throw new UsageError(`--${flag} must be a numeric GitLab ID (got "${values[flag]}")`);
    }
  }
  const level = values["user-access-level"];
  if (level !== undefined && !(USER_ACCESS_LEVELS as readonly string[]).includes(level)) {
    throw new UsageError(`--user-access-level must be one of ${USER_ACCESS_LEVELS.join(", ")}`);
  }
  const claims: Record<string, string> = {
    ref_protected: values.unprotected ? "false" : "true",
    pipeline_source: values["pipeline-source"] ?? "push",
    runner_environment: values["runner-environment"] ?? "self-hosted",
    user_access_level: values["user-access-level"] ?? "developer",
    ...(values["project-id"] !== undefined ? { project_id: values["project-id"] } : {}),
    ...(values["namespace-id"] !== undefined ? { namespace_id: values["namespace-id"] } : {}),
  };

  if (values.token !== undefined) return { ...common, tokenSource: values.token };
  if (values.sub !== undefined) return { ...common, sub: values.sub, claims };

  if (values.project === undefined) throw new UsageError("--branch and --tag need --project PATH");
  if (!/^[^\s:/][^\s:]*\/[^\s:]*[^\s:/]$/.test(values.project)) {
    throw new UsageError(`--project must be a full project path such as acme/web (got "${values.project}")`);
  }
  if (values.branch !== undefined && values.tag !== undefined) {
    throw new UsageError("give --branch or --tag, not both: a pipeline runs for one ref");
  }
  if (values.branch === undefined && values.tag === undefined) {
    throw new UsageError("--project needs --branch NAME or --tag NAME");
  }
  const refType = values.branch !== undefined ? "branch" : "tag";
  const ref = (values.branch ?? values.tag) as string;
  if (ref === "" || ref.includes(":"))
    throw new UsageError(`--${refType} must be a ${refType} name without ':'`);
  return {
    ...common,
    sub: formatSubject(values.project, refType, ref),
    job: { project: values.project, refType, ref },
    claims: { project_path: values.project, ref_type: refType, ref, ...claims },
  };
}

/**
 * The config's sub claim components and lock: `$GITLAB_OIDC_CONFIG`, else the gitlab-oidc.yaml beside
 * the synth output directory (explain also works on a bare directory: then GitLab's default sub, no IDs).
 */
async function configContext(
  dir: string,
): Promise<{ subClaim: readonly SubClaimComponent[]; lock?: GitLabLock }> {
  const { CONFIG_FILE_ENV, DEFAULT_CONFIG_FILE, loadConfigFile } = await import("../config/load");
  const file = process.env[CONFIG_FILE_ENV] || join(dirname(resolve(dir)), DEFAULT_CONFIG_FILE);
  if (!existsSync(file)) return { subClaim: DEFAULT_SUB_CLAIM };
  const { ConfigError } = await import("../config/rules");
  let config;
  try {
    config = loadConfigFile(file);
  } catch (error) {
    if (error instanceof ConfigError)
      throw new UsageError(`cannot read the config for the job's claims:\n${error.message}`);
    throw error;
  }
  const lock = config.lock ?? readLockFor(lockPathFor(file));
  return { subClaim: config.gitlab.subClaim ?? DEFAULT_SUB_CLAIM, ...(lock ? { lock } : {}) };
}

/** Reads the stacks from `dir`, synthesizing from the config file first when it has no manifest. */
async function loadStacks(dir: string, io: CliIo) {
  if (!existsSync(join(dir, "manifest.json"))) {
    const { configPath, loadConfigFile } = await import("../config/load");
    const { synthesize } = await import("../synth");
    const file = configPath();
    io.stderr(`explain: ${join(dir, "manifest.json")} is missing; synthesizing ${file} into ${dir}/ first\n`);
    synthesize(loadConfigFile(file), { outdir: dir, hcl: true });
  }
  return readSynthesizedStacks(dir);
}

export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let args: ParsedArguments;
  let token: TokenClaims | undefined;
  let request: ExplainRequest;
  try {
    args = parseArguments(argv);
    if (args.help) {
      io.stdout(USAGE);
      return EXIT_ALLOWED;
    }
    let sub = args.sub;
    let claims: Readonly<Record<string, unknown>> | undefined = args.claims;
    let audiences = args.audiences;
    let issuer: string | undefined;
    if (args.job && args.claims) {
      const { subClaim, lock } = await configContext(args.dir);
      ({ sub, claims } = jobClaims(args.job, args.claims, subClaim, lock));
      // GitLab always puts the ID there: a sub without it would be judged as no token can look.
      if (subClaim[0] === "project_id" && claims.project_id === undefined) {
        throw new UsageError(
          `the projects' sub starts with project_id (gitlab.subClaim), and the lock names no ID for ${args.job.project} ` +
            "(it records the projects the config names, not those below a granted group): pass --project-id with the project's ID",
        );
      }
    } else if (args.sub !== undefined && args.claims) {
      // A raw sub: the IDs of the project it names, from the lock, unless stated.
      const projectPath = parseSubjectClaim(args.sub)?.projectPath;
      if (projectPath)
        claims = { ...lockedClaims(projectPath, (await configContext(args.dir)).lock), ...args.claims };
    }
    if (args.tokenSource !== undefined) {
      const text = args.tokenSource === "-" ? await io.readStdin() : readToken(args.tokenSource);
      token = decodeTokenClaims(text);
      if (typeof token.sub !== "string" || token.sub === "")
        throw new UsageError("the token has no sub claim");
      sub = token.sub;
      claims = token;
      audiences ??= audiencesOf(token);
      if (audiences === undefined) throw new UsageError("the token has no aud claim (AWS requires one)");
      if (typeof token.iss === "string") issuer = token.iss;
    }
    request = {
      sub: sub as string,
      ...(claims ? { claims } : {}),
      ...(audiences ? { audiences } : {}),
      ...(issuer !== undefined ? { issuer } : {}),
      ...(args.role !== undefined ? { role: args.role } : {}),
      ...(args.account !== undefined ? { account: args.account } : {}),
    };
  } catch (error) {
    if (error instanceof UsageError || error instanceof TokenError) {
      io.stderr(`explain: ${error.message}\n\n${USAGE}`);
      return EXIT_USAGE;
    }
    throw error;
  }

  try {
    const stacks = await loadStacks(args.dir, io);
    const result = explainAccess(stacks, request);
    if (args.json) {
      io.stdout(
        `${JSON.stringify({ ...result, ...(token ? { token: { claims: token } } : {}) }, null, 2)}\n`,
      );
    } else {
      io.stdout(renderExplanation(result, token));
    }
    return result.allowed ? EXIT_ALLOWED : EXIT_DENIED;
  } catch (error) {
    if (error instanceof NoRoleSelectedError) {
      io.stderr(`explain: ${error.message}\n`);
      return EXIT_USAGE;
    }
    io.stderr(`explain: ${(error as Error).message}\n`);
    return EXIT_ERROR;
  }
}

function readToken(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    throw new UsageError(
      `cannot read the token file ${file}: ${(error as NodeJS.ErrnoException).code ?? error}`,
    );
  }
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString("utf8");
}

if (require.main === module) {
  runCli(process.argv.slice(2), {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    readStdin: () => readAll(process.stdin),
  }).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error(error instanceof Error ? (error.stack ?? error.message) : error);
      process.exitCode = EXIT_ERROR;
    },
  );
}
