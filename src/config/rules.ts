/**
 * The rules a parsed config must also follow: the ones that span fields (duplicates, quotas, the trust
 * policy's size) or need a tailored fix in the message. Each check returns problems instead of
 * throwing, so one run reports every problem at once. The constructs call the same checks, so a stack
 * built from code gets the same protection as one built from the YAML.
 */
import { providerAdoptionProblems } from "./adoption";
import { CLAIM_LIKE_KEYS } from "./claim-like-keys";
import type { AccountConfig, AllowEntry, Config, PolicyDocument, RoleConfig } from "./schema";
import type { GitLabLock } from "../gitlab/lock";
import { GITLAB_COM_CLAIM_KEYS, GITLAB_COM_ISSUER_HOST, isSuppliedClaim } from "../model/claims";
import { grantIssues, NOT_IN_LOCK, type TrustSettings } from "../model/grants";

export { NOT_IN_LOCK } from "../model/grants";
import {
  issuerHost,
  oidcProviderArn,
  policyLength,
  trustPolicyFor,
  type IamPolicyDocument,
} from "../model/trust-policy";
import { terraformName } from "../model/names";
import {
  audienceProblem,
  descriptionProblem,
  iamArnProblem,
  iamPathProblem,
  nonAsciiPathProblem,
  roleNameProblem,
  tagsProblems,
} from "./validators";
import { deployAudience, generatesDeployJobs, stackVariableSuffix } from "../pipeline/stack-jobs";
import { checkStateAndPipelineRoles } from "./state-rules";

/** One thing wrong with the config: where (`accounts[0].roles[1].name`, as path segments) and why. */
export interface Problem {
  readonly path: readonly (string | number)[];
  readonly message: string;
  /** 1-based line and column in the config file, where known. */
  readonly line?: number;
  readonly col?: number;
  /** The file it is in, when not the config (the lock's problems are reported with the config's). */
  readonly file?: string;
}

/** `["accounts", 0, "roles", 1]` → `accounts[0].roles[1]`. */
export function formatPath(path: readonly PropertyKey[]): string {
  return path
    .map((segment, i) =>
      typeof segment === "number" ? `[${segment}]` : i === 0 ? String(segment) : `.${String(segment)}`,
    )
    .join("");
}

/** `gitlab-oidc.yaml:12:9: accounts[0].roles[1].name: why` */
export function formatProblem(problem: Problem, source?: string): string {
  const file = problem.file ?? source;
  const where = file ? `${file}${problem.line ? `:${problem.line}:${problem.col ?? 1}` : ""}: ` : "";
  const field = problem.path.length ? `${formatPath(problem.path)}: ` : "";
  return `${where}${field}${problem.message}`;
}

/** Raised by the loader and the constructs: `problems` lists each problem, `message` has one per line. */
export class ConfigError extends Error {
  constructor(
    readonly problems: readonly Problem[],
    readonly source?: string,
  ) {
    super(problems.map((problem) => formatProblem(problem, source)).join("\n"));
    this.name = "ConfigError";
  }
}

const GROUP_PATH = /^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/;
const INLINE_POLICIES_MAX_LENGTH = 10240;
const AUDIENCES_MAX = 100;

/**
 * The default of `gitlab.audience` (since component 2.0.0): the logical name of the target service, as
 * GitLab's AWS guide now advises (the instance URL, the old default, "might work … but is semantically
 * misleading") and AWS's own GitLab guide uses.
 */
export const DEFAULT_AUDIENCE = "sts.amazonaws.com";

/** The audiences of `gitlab.audience`; default: sts.amazonaws.com. */
export function audiencesOf(gitlab: Config["gitlab"]): string[] {
  const audience = gitlab.audience ?? DEFAULT_AUDIENCE;
  return Array.isArray(audience) ? audience : [audience];
}

/** The audiences a role's trust policy requires: its own, else gitlab.audience. */
export function roleAudiences(gitlab: Config["gitlab"], role: Pick<RoleConfig, "audience">): string[] {
  if (role.audience === undefined) return audiencesOf(gitlab);
  return Array.isArray(role.audience) ? [...role.audience] : [role.audience];
}

/** The provider's client IDs: gitlab.audience and every audience of the account's roles, in order. */
export function providerAudiences(
  gitlab: Config["gitlab"],
  roles: readonly Pick<RoleConfig, "audience">[],
): string[] {
  return [...new Set([...audiencesOf(gitlab), ...roles.flatMap((role) => roleAudiences(gitlab, role))])];
}

/** The tokens' issuer, which is the IAM provider URL: gitlab.issuer, else gitlab.url. */
export function providerUrlOf(gitlab: Config["gitlab"]): string {
  return gitlab.issuer ?? gitlab.url;
}

/** gitlab.pinIds; default: true where AWS supplies the ID keys (gitlab.com). */
export function pinIdsOf(gitlab: Config["gitlab"]): boolean {
  return gitlab.pinIds ?? issuerHost(providerUrlOf(gitlab)) === GITLAB_COM_ISSUER_HOST;
}

/**
 * How this config's tokens can be checked, for the trust policy model; `role` gives a role's own
 * `pinIds: false`, which turns pinning off for that role only.
 */
export function trustSettingsOf(
  gitlab: Config["gitlab"],
  lock: GitLabLock | undefined,
  role?: { readonly pinIds?: false },
): TrustSettings {
  return {
    issuerHost: issuerHost(providerUrlOf(gitlab)),
    ...(gitlab.subClaim ? { subClaim: gitlab.subClaim } : {}),
    pinIds: role?.pinIds === false ? false : pinIdsOf(gitlab),
    ...(lock ? { lock } : {}),
  };
}

/** The part of a wildcarded path before its first wildcard, cut back to a whole group: `acme/we*` → `acme`. */
function groupBefore(path: string): string {
  const beforeWildcard = path.split(/[*?]/)[0];
  const cut = beforeWildcard.lastIndexOf("/");
  return cut > 0 ? beforeWildcard.slice(0, cut) : beforeWildcard.replace(/\/+$/, "") || "<group>";
}

export function checkAllowEntry(entry: AllowEntry, path: readonly (string | number)[]): Problem[] {
  const problems: Problem[] = [];
  const at = (key: string, message: string) => problems.push({ path: [...path, key], message });

  if (entry.project === undefined && entry.group === undefined) {
    problems.push({
      path,
      message: "name exactly one of project (one project) or group (every project below it)",
    });
  } else if (entry.project !== undefined && entry.group !== undefined) {
    problems.push({ path, message: "name either project or group, not both: use two allow entries" });
  }
  if (entry.project !== undefined) {
    const project = entry.project;
    const nonAscii = nonAsciiPathProblem(project);
    if (nonAscii !== undefined) {
      at("project", `the project path ${nonAscii}`);
    } else if (/[*?]/.test(project)) {
      at("project", `wildcards are not allowed in a project path; use group: ${groupBefore(project)}`);
    } else if (project.startsWith("/") || project.endsWith("/")) {
      at(
        "project",
        `a project path has no leading or trailing slash: use ${project.replace(/^\/+|\/+$/g, "")}`,
      );
    } else if (!GROUP_PATH.test(project)) {
      at("project", "a project path may contain only letters, digits, _ . - and / between segments");
    } else if (!project.includes("/")) {
      at(
        "project",
        `"${project}" is a namespace, not a project: write namespace/project, or use group: ${project}`,
      );
    }
  }
  if (entry.group !== undefined) {
    const group = entry.group;
    const nonAscii = nonAsciiPathProblem(group);
    if (nonAscii !== undefined) {
      at("group", `the group path ${nonAscii}`);
    } else if (/[*?]/.test(group)) {
      at(
        "group",
        `wildcards are not allowed in a group path; a group already covers every project below it at any depth: use group: ${groupBefore(group)}`,
      );
    } else if (group.startsWith("/") || group.endsWith("/")) {
      at("group", `a group path has no leading or trailing slash: use ${group.replace(/^\/+|\/+$/g, "")}`);
    } else if (!GROUP_PATH.test(group)) {
      at("group", "a group path may contain only letters, digits, _ . - and / between segments");
    }
  }
  problems.push(...neverMatchingProblems(entry, path));
  const hasRefs = entry.branches !== undefined || entry.tags !== undefined;
  if (entry.anyRef && hasRefs) {
    problems.push({
      path,
      message: "anyRef: true already allows every branch and tag; remove branches/tags or anyRef",
    });
  } else if (!entry.anyRef && !hasRefs) {
    problems.push({
      path,
      message:
        'say which refs may assume the role: branches: [main] and/or tags: ["v*"] (anyRef: true allows every ref, including unprotected branches)',
    });
  }
  return problems;
}

/**
 * Grants that can never match (or not as written), each with the fix. GitLab's `ref` claim is the bare
 * branch or tag name (`refs/heads/main` is `ref_path`, which no grant reads); a merge-request pipeline
 * runs for a branch, and its token says `ref_protected: "false"` unless the project protects merge
 * request pipelines (GitLab 18.1+ `protect_merge_request_pipelines`, on by default only for projects
 * created since) and both its source and target branches are protected and it is not from a fork.
 */
function neverMatchingProblems(entry: AllowEntry, path: readonly (string | number)[]): Problem[] {
  const problems: Problem[] = [];
  const refPrefixes = [
    ["refs/heads/", "branch", "branches"],
    ["refs/tags/", "tag", "tags"],
  ] as const;
  for (const key of ["branches", "tags"] as const) {
    (entry[key] ?? []).forEach((pattern, i) => {
      for (const [prefix, kind, list] of refPrefixes) {
        if (!pattern.startsWith(prefix)) continue;
        const name = pattern.slice(prefix.length);
        const fix =
          list === key
            ? `write ${JSON.stringify(name)}`
            : `it names a ${kind}: move ${JSON.stringify(name)} to ${list}`;
        problems.push({
          path: [...path, key, i],
          message: `"${pattern}" never matches: GitLab's ref claim is the bare ${kind} name, without ${prefix}; ${fix}`,
        });
      }
    });
  }
  const sources = entry.pipelineSources ?? [];
  const mergeRequestOnly = sources.length > 0 && sources.every((source) => source === "merge_request_event");
  if (mergeRequestOnly && entry.tags !== undefined) {
    problems.push({
      path: [...path, "tags"],
      message:
        "merge-request pipelines run for a branch, never a tag, so these tags never match with pipelineSources: [merge_request_event]; grant the tags in another entry",
    });
  }
  if (sources.includes("merge_request_event") && entry.protected === undefined) {
    problems.push({
      path: [...path, "pipelineSources"],
      message:
        'merge_request_event with the default protected: true matches only merge-request pipelines GitLab marks protected: both the source and the target branch protected, not from a fork, and the project setting "protect merge request pipelines" on; a merge request from an ordinary (unprotected) branch gets ref_protected "false" and never matches. ' +
        "Write protected: false to allow merge-request pipelines of unprotected branches (then only the branch names limit them), or protected: true to say you rely on protected merge-request pipelines",
    });
  }
  return problems;
}

/** Strings in inline policies that cdktf's HCL output cannot carry inside `jsonencode(...)`. */
function unsafeInlinePolicyString(value: unknown): string | undefined {
  if (typeof value === "string") {
    if (/["\\]/.test(value)) return value;
    if (value.includes("%{")) return value;
    return undefined;
  }
  if (value && typeof value === "object") {
    for (const [key, inner] of Object.entries(value)) {
      const found = unsafeInlinePolicyString(key) ?? unsafeInlinePolicyString(inner);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

export interface RoleContext {
  readonly gitlab: Config["gitlab"];
  /** The IDs behind the config's paths; grants that need an ID missing from it are refused. */
  readonly lock?: GitLabLock;
  readonly limits: Config["limits"];
  readonly accountId: string;
  readonly partition: string;
}

export function checkRole(
  role: RoleConfig,
  context: RoleContext,
  path: readonly (string | number)[],
): Problem[] {
  return checkRoleAndTrust(role, context, path).problems;
}

/**
 * checkRole, and the trust policy it measured (trusting the account's provider ARN as a literal) when
 * it found no problem: the construct writes that policy, with its own reference to the provider
 * (withProviderArn), instead of building it a second time.
 */
export function checkRoleAndTrust(
  role: RoleConfig,
  context: RoleContext,
  path: readonly (string | number)[],
): { readonly problems: Problem[]; readonly trustPolicy?: IamPolicyDocument } {
  const problems: Problem[] = [];
  const at = (suffix: (string | number)[], message: string) =>
    problems.push({ path: [...path, ...suffix], message });

  const settings = trustSettingsOf(context.gitlab, context.lock, role);
  role.allow.forEach((entry, i) => {
    const entryProblems = checkAllowEntry(entry, [...path, "allow", i]);
    problems.push(...entryProblems);
    if (entryProblems.length > 0) return;
    for (const issue of grantIssues(entry, settings)) {
      at(["allow", i, ...(issue.key !== undefined ? [issue.key] : [])], issue.message);
    }
  });
  problems.push(
    ...(role.audience !== undefined
      ? checkAudienceList(
          roleAudiences(context.gitlab, role),
          [...path, "audience"],
          Array.isArray(role.audience),
        )
      : []),
  );

  const maxManaged = context.limits.managedPoliciesPerRole;
  if (role.managedPolicyArns.length > maxManaged) {
    at(
      ["managedPolicyArns"],
      `${role.managedPolicyArns.length} managed policies, over the quota of ${maxManaged} per role` +
        (maxManaged < 20
          ? "; raise the IAM quota and set limits.managedPoliciesPerRole (at most 20), or merge policies"
          : " (IAM's hard limit); merge policies"),
    );
  }
  const policyArn = { resourceType: "policy", allowAwsManaged: true, ...context } as const;
  const managed = { ...policyArn, what: "the managed policy" };
  const seenArns = new Set<string>();
  role.managedPolicyArns.forEach((arn, i) => {
    const problem = iamArnProblem(arn, managed);
    if (problem !== undefined) at(["managedPolicyArns", i], problem);
    if (seenArns.has(arn)) at(["managedPolicyArns", i], `"${arn}" is listed twice`);
    seenArns.add(arn);
  });
  if (role.permissionsBoundary !== undefined) {
    const problem = iamArnProblem(role.permissionsBoundary, {
      ...policyArn,
      what: "the permissions boundary",
    });
    if (problem !== undefined) at(["permissionsBoundary"], problem);
  }
  // The schema checks these for YAML; a role built from code gets the same rules here.
  const nameProblem = roleNameProblem(role.name);
  if (nameProblem !== undefined) at(["name"], nameProblem);
  const pathProblem = iamPathProblem(role.path);
  if (pathProblem !== undefined) at(["path"], pathProblem);
  if (role.description !== undefined) {
    const problem = descriptionProblem(role.description);
    if (problem !== undefined) at(["description"], problem);
  }
  for (const [key, problem] of tagsProblems(role.tags)) at(key === "" ? ["tags"] : ["tags", key], problem);

  const inlineAddresses = new Map<string, string>();
  for (const name of Object.keys(role.inlinePolicies)) {
    const address = terraformName(name);
    const other = inlineAddresses.get(address);
    if (other !== undefined) {
      at(
        ["inlinePolicies", name],
        `inline policies "${other}" and "${name}" map to one Terraform address; rename one`,
      );
    }
    inlineAddresses.set(address, name);
  }
  for (const [name, document] of Object.entries(role.inlinePolicies)) {
    identityPolicyProblems(document).forEach((problem) => at(["inlinePolicies", name], problem));
    const unsafe = unsafeInlinePolicyString(document);
    if (unsafe !== undefined) {
      at(
        ["inlinePolicies", name],
        `the value ${JSON.stringify(unsafe)} contains a double quote, a backslash or "%{", which the synthesized HCL cannot carry; use a managed policy for it`,
      );
    }
  }
  const inlineLength = Object.values(role.inlinePolicies).reduce((sum, doc) => sum + policyLength(doc), 0);
  if (inlineLength > INLINE_POLICIES_MAX_LENGTH) {
    at(
      ["inlinePolicies"],
      `inline policies total ${inlineLength} characters, over IAM's ${INLINE_POLICIES_MAX_LENGTH} per role; move some into managed policies`,
    );
  }

  if (problems.length > 0) return { problems };
  const trustPolicy = roleTrustPolicy(role, context, settings);
  const length = policyLength(trustPolicy);
  const quota = context.limits.trustPolicyLength;
  if (length > quota) {
    at(
      ["allow"],
      `the trust policy would be ${length} characters, over the ${quota}-character quota (ACLSizePerRole): ` +
        "grant groups instead of many projects, use ref patterns, split the role" +
        (quota < 8192 ? ", or raise the quota and set limits.trustPolicyLength" : ""),
    );
  }
  return problems.length > 0 ? { problems } : { problems, trustPolicy };
}

/**
 * The role's trust policy under `context`, trusting the account's provider by its ARN (a literal);
 * `settings` are trustSettingsOf the same, when the caller has them.
 */
export function roleTrustPolicy(
  role: RoleConfig,
  context: RoleContext,
  settings: TrustSettings = trustSettingsOf(context.gitlab, context.lock, role),
): IamPolicyDocument {
  return trustPolicyFor({
    ...settings,
    providerArn: oidcProviderArn(context.partition, context.accountId, providerUrlOf(context.gitlab)),
    audiences: roleAudiences(context.gitlab, role),
    allow: role.allow,
  });
}

/** An identity policy names no principal: IAM refuses `Principal`/`NotPrincipal` there at apply. */
function identityPolicyProblems(document: PolicyDocument): string[] {
  const statements = Array.isArray(document.Statement) ? document.Statement : [document.Statement];
  return statements.flatMap((statement, i) =>
    ["Principal", "NotPrincipal"]
      .filter((key) => Object.hasOwn(statement, key))
      .map(
        (key) =>
          `Statement[${i}] has ${key}, which only resource policies (such as the trust policy) take; IAM refuses it in an inline policy: remove it`,
      ),
  );
}

/**
 * The account's own fields the AWS provider block carries: the deploy role and the default tags. The
 * stack runs this too, so a stack built from code gets the same rules.
 */
export function checkAccountFields(
  account: Pick<AccountConfig, "accountId" | "partition" | "deployRoleArn" | "tags">,
  path: readonly (string | number)[],
): Problem[] {
  const problems: Problem[] = [];
  if (account.deployRoleArn !== undefined) {
    const problem = iamArnProblem(account.deployRoleArn, {
      what: "the deploy role",
      resourceType: "role",
      partition: account.partition,
      accountId: account.accountId,
      allowAwsManaged: false,
    });
    if (problem !== undefined) problems.push({ path: [...path, "deployRoleArn"], message: problem });
  }
  for (const [key, message] of tagsProblems(account.tags)) {
    problems.push({ path: key === "" ? [...path, "tags"] : [...path, "tags", key], message });
  }
  return problems;
}

/**
 * An account's own problems. Reads the account, `config.gitlab`, `config.limits` and the lock entries
 * its grants name, nothing else (the incremental synth relies on it: checkedAccounts).
 */
function checkAccount(account: AccountConfig, config: Config, path: (string | number)[]): Problem[] {
  const problems: Problem[] = [
    ...checkAccountFields(account, path),
    ...providerAdoptionProblems(account, path),
  ];
  const roleNames = new Map<string, number>();
  const addresses = new Map<string, number>();
  account.roles.forEach((role, i) => {
    const rolePath = [...path, "roles", i];
    problems.push(
      ...checkRole(
        role,
        {
          gitlab: config.gitlab,
          ...(config.lock ? { lock: config.lock } : {}),
          limits: config.limits,
          accountId: account.accountId,
          partition: account.partition,
        },
        rolePath,
      ),
    );
    const key = role.name.toLowerCase();
    const address = terraformName(role.name);
    if (roleNames.has(key)) {
      problems.push({
        path: [...rolePath, "name"],
        message: `role "${role.name}" is already defined at roles[${roleNames.get(key)}] (IAM role names are case-insensitive)`,
      });
    } else if (addresses.has(address)) {
      problems.push({
        path: [...rolePath, "name"],
        message: `role "${role.name}" and roles[${addresses.get(address)}] map to the same Terraform address "${address}"; rename one`,
      });
    }
    roleNames.set(key, roleNames.get(key) ?? i);
    addresses.set(address, addresses.get(address) ?? i);
  });
  return problems;
}

/** The provider's client IDs; the provider construct runs this too. */
export function checkAudienceList(
  audiences: readonly string[],
  path: readonly (string | number)[],
  listed = true,
): Problem[] {
  const problems: Problem[] = [];
  if (audiences.length === 0)
    problems.push({ path, message: "list at least one audience, or remove the key" });
  if (audiences.length > AUDIENCES_MAX) {
    problems.push({
      path,
      message: `${audiences.length} audiences, over IAM's ${AUDIENCES_MAX} per provider`,
    });
  }
  const seen = new Set<string>();
  audiences.forEach((audience, i) => {
    const at = listed ? [...path, i] : path;
    const problem = audienceProblem(audience);
    if (problem !== undefined) problems.push({ path: at, message: problem });
    if (seen.has(audience)) problems.push({ path: at, message: `audience "${audience}" is listed twice` });
    seen.add(audience);
  });
  return problems;
}

function checkAudiences(config: Config): Problem[] {
  const listed = Array.isArray(config.gitlab.audience);
  const problems = checkAudienceList(audiencesOf(config.gitlab), ["gitlab", "audience"], listed);
  config.accounts.forEach((account, i) => {
    const all = providerAudiences(config.gitlab, account.roles);
    if (all.length > AUDIENCES_MAX) {
      problems.push({
        path: ["accounts", i, "roles"],
        message: `the roles' audiences add up to ${all.length} client IDs for the account's OIDC provider, over IAM's ${AUDIENCES_MAX}`,
      });
    }
  });
  return problems;
}

/** gitlab.pinIds: true needs ID keys, which AWS supplies for gitlab.com only. */
function checkPinIds(config: Config): Problem[] {
  const host = issuerHost(providerUrlOf(config.gitlab));
  if (config.gitlab.pinIds !== true || isSuppliedClaim(host, "project_id")) return [];
  return [
    {
      path: ["gitlab", "pinIds"],
      message:
        `AWS supplies project_id and namespace_id only for the gitlab.com provider; for ${host} a condition on them would find the keys missing and deny every job. ` +
        "Start gitlab.subClaim with project_id to pin projects through sub, or remove pinIds",
    },
  ];
}

/**
 * Where the synth generates deploy jobs, each account's `deploy:<stack>` job asks for the audience
 * `gitlab-oidc-aws-deploy-<stack>`; a role of that account must accept it, or the job could only fail
 * with InvalidIdentityToken (and no other audience would do: a shared one lets one stack's deploy
 * token pass another stack's deployer).
 */
function checkDeployAudiences(config: Config): Problem[] {
  if (!generatesDeployJobs(config.state)) return [];
  return config.accounts.flatMap((account, i) => {
    const audience = deployAudience(account.name);
    if (account.roles.some((role) => roleAudiences(config.gitlab, role).includes(audience))) return [];
    return [
      {
        path: ["accounts", i, "roles"],
        message:
          `no role of account "${account.name}" accepts ${audience}, the audience of its generated deploy job ` +
          `(deploy:${account.name}), so that job could only fail with InvalidIdentityToken: add ` +
          `audience: ${audience} to the account's deployer role (docs/pipeline.md, "The pipeline's roles")`,
      },
    ];
  });
}

/**
 * Every cross-field problem in a config that already matches the schema. The per-account checks
 * (checkAccount: its fields, roles and grants, read with the shared settings and the lock) do not run
 * for the accounts `checkedBefore` returns, which passed them before on the same inputs (the incremental
 * synth's records: checkedAccounts in src/synth-plan.ts). The checks across accounts always run, first:
 * `checkedBefore` is asked only when they pass.
 */
export function checkConfig(config: Config, checkedBefore?: () => ReadonlySet<AccountConfig>): Problem[] {
  return oncePerLockPath(checkConfigOnce(config, checkedBefore));
}

/** A path missing from the lock is one problem (at its first grant), however many grants name it. */
function oncePerLockPath(problems: Problem[]): Problem[] {
  const counts = new Map<string, number>();
  for (const { message } of problems) {
    if (message.includes(NOT_IN_LOCK)) counts.set(message, (counts.get(message) ?? 0) + 1);
  }
  const said = new Set<string>();
  return problems.flatMap((problem) => {
    const count = counts.get(problem.message);
    if (count === undefined) return [problem];
    if (said.has(problem.message)) return [];
    said.add(problem.message);
    const more = count - 1;
    return [
      more === 0
        ? problem
        : { ...problem, message: `${problem.message} (${more} more grant${more === 1 ? "" : "s"} name it)` },
    ];
  });
}

function checkConfigOnce(config: Config, checkedBefore?: () => ReadonlySet<AccountConfig>): Problem[] {
  const problems: Problem[] = [
    ...checkAudiences(config),
    ...checkPinIds(config),
    ...checkStateAndPipelineRoles(config),
    ...checkDeployAudiences(config),
  ];
  const stackNames = new Map<string, number>();
  const providerCreatedBy = new Map<string, number>();
  // IAM role names are unique per AWS account, ignoring case; two stacks must not both manage one.
  const roleOwners = new Map<string, string>();
  config.accounts.forEach((account, i) => {
    account.roles.forEach((role, r) => {
      const key = `${account.accountId}/${role.name.toLowerCase()}`;
      const first = roleOwners.get(key);
      if (first === undefined) {
        roleOwners.set(key, `accounts[${i}].roles[${r}]`);
      } else if (!first.startsWith(`accounts[${i}].`)) {
        problems.push({
          path: ["accounts", i, "roles", r, "name"],
          message: `role "${role.name}" is already defined at ${first}, in the same AWS account ${account.accountId} (IAM role names are unique per account, ignoring case): two stacks would manage one role; rename one or merge them`,
        });
      }
    });
  });
  // The checks across accounts first; each account's own problems are put in their place after.
  const across: Problem[][] = config.accounts.map(() => []);
  config.accounts.forEach((account, i) => {
    const path = ["accounts", i];
    // Case-insensitively, and with - and _ alike: the pipeline's CI/CD variables are named after it.
    const key = stackVariableSuffix(account.name);
    if (stackNames.has(key)) {
      across[i]!.push({
        path: [...path, "name"],
        message: `stack name "${account.name}" is already used by accounts[${stackNames.get(key)}] (names are compared ignoring case and -/_, as they name the pipeline's CI/CD variables); stack and state names must be unique`,
      });
    } else {
      stackNames.set(key, i);
    }
    if (account.provider === "create") {
      const first = providerCreatedBy.get(account.accountId);
      if (first !== undefined) {
        across[i]!.push({
          path: [...path, "provider"],
          message: `accounts[${first}] already creates the GitLab OIDC provider in account ${account.accountId} (one per URL per account); use provider: existing here`,
        });
      } else {
        providerCreatedBy.set(account.accountId, i);
      }
    }
  });
  const shared = checkAudiencesOfSharedProviders(config, providerCreatedBy);
  // Only a config whose accounts fit together is planned (the records read, the stacks' inputs hashed):
  // it is what the plan needs, and a config that fails here is checked again in full anyway.
  const clean = problems.length === 0 && shared.length === 0 && across.every((found) => found.length === 0);
  const skipped = clean && checkedBefore ? checkedBefore() : undefined;
  config.accounts.forEach((account, i) => {
    if (!skipped?.has(account)) problems.push(...checkAccount(account, config, ["accounts", i]));
    problems.push(...across[i]!);
  });
  problems.push(...shared);
  return problems;
}

/**
 * An account with `provider: existing` whose provider another account of this config creates (same
 * accountId) gets that provider's client IDs, which list only the creating account's audiences: a role
 * audience outside them would be refused by STS for every job.
 */
function checkAudiencesOfSharedProviders(
  config: Config,
  providerCreatedBy: ReadonlyMap<string, number>,
): Problem[] {
  const problems: Problem[] = [];
  config.accounts.forEach((account, i) => {
    const creator = providerCreatedBy.get(account.accountId);
    if (account.provider !== "existing" || creator === undefined) return;
    const clientIds = providerAudiences(config.gitlab, config.accounts[creator].roles);
    account.roles.forEach((role, r) => {
      const missing = roleAudiences(config.gitlab, role).filter((a) => !clientIds.includes(a));
      if (missing.length === 0) return;
      problems.push({
        path: ["accounts", i, "roles", r, "audience"],
        message: `${missing.map((a) => `"${a}"`).join(", ")} is not a client ID of the provider that accounts[${creator}] creates in account ${account.accountId}, so STS would refuse every token for this role: add it to gitlab.audience (every provider's client IDs), e.g. gitlab.audience: [${DEFAULT_AUDIENCE}, ${missing.join(", ")}] while the jobs that send it move to ${DEFAULT_AUDIENCE} (docs/config.md, "Moving to the sts.amazonaws.com audience")`,
      });
    });
  });
  return problems;
}

/** Keys people reach for that mean one of ours (a Map: a key such as `constructor` is just a key). */
const KEY_ALIASES = new Map<string, string>([
  ["branch", "branches"],
  ["tag", "tags"],
  ["ref", "branches or tags"],
  ["refs", "branches or tags"],
  ["ref_type", "branches or tags"],
  ["project_path", "project"],
  ["namespace", "group"],
]);

/** The environment claims reach a grant through `environments:` (checked in sub; issue 24). */
const ENVIRONMENT_CLAIM_OPTIONS: [string, string][] = [
  "environment",
  "environment_protected",
  "deployment_tier",
].map((claim) => [
  claim,
  "environments: { tiers: [production], protected: true } (checked through sub: needs environment_protected and deployment_tier in gitlab.subClaim" +
    (claim === "environment"
      ? "; the environment's name is not part of sub, its tier and protection are)"
      : ")"),
]);

/** Claim-like grant keys that have a typed grant option, and what to write instead. */
const CLAIM_OPTIONS = new Map<string, string>([
  ["ref_protected", "protected: true (the default) keeps unprotected branches and tags out"],
  ["project_id", "project: <path>; its ID is pinned from gitlab-oidc.lock.yaml (npm run resolve)"],
  ["namespace_id", "group: <path>; its IDs are pinned from gitlab-oidc.lock.yaml (npm run resolve)"],
  ["namespace_path", "group: <path>"],
  ["pipeline_source", "pipelineSources: [push, web] (gitlab.com only)"],
  ["runner_environment", "runnerEnvironment: gitlab-hosted (gitlab.com only)"],
  ...ENVIRONMENT_CLAIM_OPTIONS,
  ["user_access_level", "userAccessLevels: [maintainer, owner] (gitlab.com only)"],
]);

/** Grant keys named after ID-token claims get their own explanation instead of "unknown key". */
export function unknownKeyMessage(key: string, knownKeys: readonly string[]): string {
  const alias = KEY_ALIASES.get(key);
  if (alias && alias.split(" or ").every((k) => knownKeys.includes(k))) {
    return `unknown key "${key}"; use ${alias}`;
  }
  if ((CLAIM_LIKE_KEYS as readonly string[]).includes(key) && knownKeys.includes("branches")) {
    const option = CLAIM_OPTIONS.get(key);
    if (option !== undefined) return `"${key}" is a GitLab ID-token claim; write ${option}`;
    const gitlabCom = isSuppliedClaim(GITLAB_COM_ISSUER_HOST, key);
    return (
      `"${key}" is a GitLab ID-token claim that this tool has no grant option for: ` +
      (gitlabCom
        ? `AWS supplies gitlab.com:${key} on gitlab.com only, and for other issuers a condition on it would find the key missing and deny every job`
        : `AWS does not supply it as a condition key (only aud and sub, and on gitlab.com also ${GITLAB_COM_CLAIM_KEYS.join(", ")}), so a condition on it would find the key missing and deny every job`) +
      "; restrict by project or group, branches/tags and protected"
    );
  }
  const suggestion = closest(key, knownKeys);
  return `unknown key "${key}"` + (suggestion ? `; did you mean "${suggestion}"?` : "");
}

function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (distance <= Math.max(1, Math.floor(candidate.length / 3)) && (!best || distance < best.distance)) {
      best = { candidate, distance };
    }
  }
  return best?.candidate;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        previous[j] + 1,
        current[j - 1] + 1,
        previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length];
}
