/**
 * `npm run explain -- --project acme/web --branch main` (or `--tag v1.2.0`, `--sub …`, `--token FILE|-`):
 * for every role of the synthesized stacks, ALLOWED or DENIED and why. A thin layer over
 * explainAccess(): arguments in, text or JSON out, and an exit code scripts can test.
 */
import "../runtime/entry"; // first: silences cdktf's DEP0044, enables the compile cache
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { lockPathFor, readLockFor, type GitLabLock } from "../gitlab/lock";
import { chooseConfig, outdirFor } from "../layout";
import type { Job } from "./explain";
import {
  DEFAULT_SUB_CLAIM,
  DEPLOYMENT_TIERS,
  ENVIRONMENT_SUB_CLAIM_COMPONENTS,
  USER_ACCESS_LEVELS,
  type SubClaimComponent,
} from "../model/claims";
import { formatSubject } from "../model/subjects";
import { readSynthesizedStacks, type SynthesizedStack } from "../terraform/synthesized-stacks";
import {
  explainAccess,
  jobClaims,
  lockedClaims,
  NoRoleSelectedError,
  type ExplainRequest,
  type OpenQuestion,
} from "./explain";
import { safeWriter } from "../terminal-text";
import { parseSubjectClaim } from "./subject";
import { renderExplanation } from "./format";
import { audiencesOf, decodeTokenClaims, TokenError, type TokenClaims } from "./token";

export const EXIT_ALLOWED = 0;
export const EXIT_ERROR = 1;
export const EXIT_USAGE = 2;
export const EXIT_DENIED = 3;
export const EXIT_DEPENDS = 4;

/** The output of the config `npm run synth` uses (src/layout.ts): terraform/, or the example's on a fresh clone. */
function defaultDir(): string {
  return outdirFor(chooseConfig().file);
}

export const USAGE = `Usage: npm run explain -- <job> [options]

Would this GitLab job get the role, and if not, why? Reads the synthesized stacks (--dir).

The job, one of:
  --project PATH (--branch NAME | --tag NAME)   a pipeline of project PATH on a branch or tag; its sub
                                                is formatted with the config's gitlab.subClaim
  --sub SUB                                     a raw sub claim, e.g. project_path:acme/web:ref_type:branch:ref:main
  --token FILE|-                                a GitLab ID token (JWT) from a file or stdin; its
                                                claims are decoded, never verified

The job's other claims (AWS checks them on gitlab.com; ignored with --token, which has its own):
  --protected | --unprotected   whether the branch or tag is protected (default: open, see below)
  --project-id ID               the project's ID (default: from gitlab-oidc.lock.yaml)
  --namespace-id ID             its namespace's ID (default: from the lock)
  --pipeline-source SOURCE      e.g. push, web, merge_request_event (default: open)
  --runner-environment ENV      gitlab-hosted or self-hosted (default: open)
  --environment-tier TIER       the job deploys to an environment of this tier (production, staging,
                                testing, development, other); default: no environment, so its sub
                                has no environment_protected or deployment_tier (with --project)
  --environment-protected | --environment-unprotected
                                whether that environment is protected (default: protected)
  --user-access-level LEVEL     the project role of the user the job runs as: guest, planner, reporter,
                                developer, maintainer or owner (default: open)
  A claim left open is not assumed: a role whose answer depends on it says under which values it
  holds ("ALLOWED only if branch feature/x is protected").

Options:
  --aud AUD        the token's audience (repeatable); default: each account's GitLab URL
  --role NAME|ARN  only roles with this name (a role ARN also selects its account)
  --account NAME   only this account (stack name or 12-digit id)
  --dir DIR        synth output directory (default: the config's, terraform/; synthesized first if it has no manifest.json)
  --json           machine-readable output
  -h, --help       this help

Exit codes: 0 at least one selected role is allowed (whatever the open claims are),
3 every selected role is denied (whatever they are), 4 allowed only for some values of the
claims left open (the answer says which), 2 usage error, 1 other error.
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
  /** Claims no flag stated (ref_protected, pipeline_source, runner_environment): not assumed. */
  readonly open?: readonly string[];
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
        "environment-tier": { type: "string" },
        "environment-protected": { type: "boolean" },
        "environment-unprotected": { type: "boolean" },
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
    dir: values.dir ?? defaultDir(),
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
  const environment = environmentClaims(values);
  const open = [
    values.protected || values.unprotected ? "" : "ref_protected",
    values["pipeline-source"] !== undefined ? "" : "pipeline_source",
    values["runner-environment"] !== undefined ? "" : "runner_environment",
    values["user-access-level"] !== undefined ? "" : "user_access_level",
  ].filter(Boolean);
  // Values for open claims are placeholders: a role that depends on one is judged under each value.
  const claims: Record<string, string> = {
    ...environment,
    ref_protected: values.unprotected ? "false" : "true",
    pipeline_source: values["pipeline-source"] ?? "push",
    runner_environment: values["runner-environment"] ?? "self-hosted",
    user_access_level: values["user-access-level"] ?? "developer",
    ...(values["project-id"] !== undefined ? { project_id: values["project-id"] } : {}),
    ...(values["namespace-id"] !== undefined ? { namespace_id: values["namespace-id"] } : {}),
  };

  if (values.token !== undefined) return { ...common, tokenSource: values.token };
  if (Object.keys(environment).length > 0 && values.sub !== undefined) {
    throw new UsageError(
      "--environment-* shape the sub of --project; a raw --sub carries its own environment parts",
    );
  }
  if (values.sub !== undefined) return { ...common, sub: values.sub, claims, open };

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
    open,
  };
}

/**
 * The job's environment claims from `--environment-tier` and `--environment-protected|unprotected`: none
 * without a tier (a job without `environment:` has neither claim; GitLab leaves both out of its sub).
 */
function environmentClaims(values: {
  "environment-tier"?: string;
  "environment-protected"?: boolean;
  "environment-unprotected"?: boolean;
}): Record<string, string> {
  const tier = values["environment-tier"];
  if (values["environment-protected"] && values["environment-unprotected"]) {
    throw new UsageError("give --environment-protected or --environment-unprotected, not both");
  }
  if (tier === undefined) {
    if (values["environment-protected"] || values["environment-unprotected"]) {
      throw new UsageError(
        "--environment-protected/--environment-unprotected need --environment-tier: a job's environment always has a tier",
      );
    }
    return {};
  }
  if (!(DEPLOYMENT_TIERS as readonly string[]).includes(tier)) {
    throw new UsageError(`--environment-tier must be one of ${DEPLOYMENT_TIERS.join(", ")} (got "${tier}")`);
  }
  return {
    environment_protected: values["environment-unprotected"] ? "false" : "true",
    deployment_tier: tier,
  };
}

/**
 * The config's sub claim components and lock: `$GITLAB_OIDC_CONFIG`, else the gitlab-oidc.yaml beside
 * the synth output directory (explain also works on a bare directory: then GitLab's default sub, no IDs).
 */
async function configContext(
  dir: string,
): Promise<{ subClaim: readonly SubClaimComponent[]; lock?: GitLabLock }> {
  const { loadConfigFile } = await import("../config/load");
  const file = await configFileFor(dir);
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

/**
 * Reads the stacks from `dir`. A `dir` without a manifest is not a synth output: explain then
 * synthesizes the config into a scratch directory of its own and answers from that, never writing into
 * `dir` (which may be any folder) and never leaving anything behind.
 */
async function loadStacks(
  dir: string,
  io: CliIo,
): Promise<{ stacks: SynthesizedStack[]; warnings: string[] }> {
  if (existsSync(join(dir, "manifest.json"))) {
    return { stacks: await readSynthesizedStacks(dir), warnings: await stalenessWarnings(dir) };
  }
  const { loadConfigFile } = await import("../config/load");
  const { synthesize } = await import("../synth");
  const file = chooseConfig().file;
  io.stderr(
    `explain: ${join(dir, "manifest.json")} is missing; answering from ${file}, synthesized into a scratch directory (${dir}/ is not written)\n`,
  );
  const scratch = mkdtempSync(join(tmpdir(), "gitlab-oidc-explain-"));
  try {
    synthesize(loadConfigFile(file), { outdir: scratch, hcl: true });
    return { stacks: await readSynthesizedStacks(scratch), warnings: [] };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** The config file explain goes by: `$GITLAB_OIDC_CONFIG`, else the gitlab-oidc.yaml beside `dir`. */
async function configFileFor(dir: string): Promise<string> {
  const { CONFIG_FILE_ENV, DEFAULT_CONFIG_FILE } = await import("../config/load");
  return process.env[CONFIG_FILE_ENV] || join(dirname(resolve(dir)), DEFAULT_CONFIG_FILE);
}

/**
 * Whether `dir` was synthesized from the config and lock as they are now: the synth records their
 * content digests (not times, which a checkout or copy changes) in synthesized-files.json.
 */
async function stalenessWarnings(dir: string): Promise<string[]> {
  const file = await configFileFor(dir);
  if (!existsSync(file)) return [];
  const { sourceDigests } = await import("../config/load");
  const { readWrittenRecord, OutputFilesError } = await import("../output-files");
  const rerun = `This answer is about ${dir}/ (what would be deployed), not the config as it is now: run npm run synth.`;
  let recorded: Readonly<Record<string, string>> | undefined;
  try {
    recorded = readWrittenRecord(dir)?.sources;
  } catch (error) {
    if (!(error instanceof OutputFilesError)) throw error;
  }
  if (!recorded) {
    return [
      `cannot tell whether ${dir}/ matches ${file}: its synthesized-files.json records no digests of the config. ${rerun}`,
    ];
  }
  const now = sourceDigests(file);
  const changed = [
    recorded.config !== now.config ? file : "",
    recorded.lock !== now.lock ? lockPathFor(file) : "",
  ].filter(Boolean);
  if (changed.length === 0) return [];
  return [`${dir}/ is older than ${changed.join(" and ")} (synthesized from other content). ${rerun}`];
}

export async function runCli(argv: readonly string[], rawIo: CliIo): Promise<number> {
  // Token claims, subs and paths from the HCL reach the terminal with control characters escaped.
  const io: CliIo = { ...rawIo, stdout: safeWriter(rawIo.stdout), stderr: safeWriter(rawIo.stderr) };
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
    let open: OpenQuestion | undefined;
    if (args.job && args.claims) {
      const { subClaim, lock } = await configContext(args.dir);
      const { job, claims: stated } = args;
      ({ sub, claims } = jobClaims(job, stated, subClaim, lock));
      open = {
        claims: args.open ?? [],
        requestFor: (assumed) => jobClaims(job, { ...stated, ...assumed }, subClaim, lock),
        job,
      };
      const environmentParts = subClaim.filter((c) => ENVIRONMENT_SUB_CLAIM_COMPONENTS.includes(c));
      if (environmentParts.length > 0 && claims.deployment_tier === undefined) {
        io.stderr(
          `explain: the job is taken to have no environment, so its sub has no ${environmentParts.join(" or ")}; ` +
            "for a job with environment:, state it with --environment-tier (and --environment-unprotected if it is not protected)\n",
        );
      }
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
      const [rawSub, baseClaims] = [args.sub, claims];
      open = {
        claims: args.open ?? [],
        requestFor: (assumed) => ({ sub: rawSub, claims: { ...baseClaims, ...assumed } }),
      };
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
      ...(open && open.claims.length > 0 ? { open } : {}),
    };
  } catch (error) {
    if (error instanceof UsageError || error instanceof TokenError) {
      io.stderr(`explain: ${error.message}\n\n${USAGE}`);
      return EXIT_USAGE;
    }
    throw error;
  }

  try {
    const { stacks, warnings } = await loadStacks(args.dir, io);
    const result = explainAccess(stacks, request);
    if (args.json) {
      const extra = {
        ...(token ? { token: { claims: token } } : {}),
        ...(warnings.length ? { warnings } : {}),
      };
      io.stdout(`${JSON.stringify({ ...result, ...extra }, null, 2)}\n`);
    } else {
      io.stdout(
        warnings.map((warning) => `warning: ${warning}\n`).join("") + renderExplanation(result, token),
      );
    }
    return result.allowed ? EXIT_ALLOWED : result.depends ? EXIT_DEPENDS : EXIT_DENIED;
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
