/**
 * The rules a parsed config must also follow: the ones that span fields (duplicates, quotas, the trust
 * policy's size) or need a tailored fix in the message. Each check returns problems instead of
 * throwing, so one run reports every problem at once. The constructs call the same checks, so a stack
 * built from code gets the same protection as one built from the YAML.
 */
import { CLAIM_LIKE_KEYS, type AccountConfig, type AllowEntry, type Config, type RoleConfig } from "./schema";
import type { GitLabLock } from "../gitlab/lock";
import { GITLAB_COM_CLAIM_KEYS, GITLAB_COM_ISSUER_HOST, isSuppliedClaim } from "../model/claims";
import { grantIssues, type TrustSettings } from "../model/grants";
import { issuerHost, oidcProviderArn, policyLength, trustPolicyFor } from "../model/trust-policy";
import { terraformName } from "../model/names";
import { stackVariableSuffix } from "../pipeline/stack-jobs";

/** One thing wrong with the config: where (`accounts[0].roles[1].name`, as path segments) and why. */
export interface Problem {
  readonly path: readonly (string | number)[];
  readonly message: string;
  /** 1-based line and column in the config file, where known. */
  readonly line?: number;
  readonly col?: number;
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
  const where = source ? `${source}${problem.line ? `:${problem.line}:${problem.col ?? 1}` : ""}: ` : "";
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
const IAM_POLICY_ARN =
  /^arn:(aws|aws-cn|aws-us-gov):iam::(aws|\d{12}):policy\/([\x21-\x7e]+\/)*[\w+=,.@-]{1,128}$/;
const IAM_ROLE_ARN = /^arn:(aws|aws-cn|aws-us-gov):iam::(\d{12}):role\/([\x21-\x7e]+\/)*[\w+=,.@-]{1,64}$/;
const INLINE_POLICIES_MAX_LENGTH = 10240;
const AUDIENCES_MAX = 100;

/** The audiences of `gitlab.audience`; default: the GitLab URL, as GitLab's AWS guide says. */
export function audiencesOf(gitlab: Config["gitlab"]): string[] {
  const audience = gitlab.audience ?? gitlab.url;
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

/** How this config's tokens can be checked, for the trust policy model. */
export function trustSettingsOf(gitlab: Config["gitlab"], lock: GitLabLock | undefined): TrustSettings {
  return {
    issuerHost: issuerHost(providerUrlOf(gitlab)),
    ...(gitlab.subClaim ? { subClaim: gitlab.subClaim } : {}),
    pinIds: pinIdsOf(gitlab),
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
    if (/[*?]/.test(project)) {
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
    if (/[*?]/.test(group)) {
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
  const problems: Problem[] = [];
  const at = (suffix: (string | number)[], message: string) =>
    problems.push({ path: [...path, ...suffix], message });

  const settings = trustSettingsOf(context.gitlab, context.lock);
  role.allow.forEach((entry, i) => {
    const entryProblems = checkAllowEntry(entry, [...path, "allow", i]);
    problems.push(...entryProblems);
    if (entryProblems.length > 0) return;
    for (const issue of grantIssues(entry, settings)) {
      at(["allow", i, ...(issue.key !== undefined ? [issue.key] : [])], issue.message);
    }
  });
  problems.push(
    ...checkAudienceList(roleAudiences(context.gitlab, role), role.audience, [...path, "audience"]),
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
  const seenArns = new Set<string>();
  role.managedPolicyArns.forEach((arn, i) => {
    if (!IAM_POLICY_ARN.test(arn)) {
      at(
        ["managedPolicyArns", i],
        `"${arn}" is not an IAM managed policy ARN (arn:aws:iam::aws:policy/Name)`,
      );
    } else if (arn.split(":")[1] !== context.partition) {
      at(
        ["managedPolicyArns", i],
        `"${arn}" is in another partition than the account (${context.partition})`,
      );
    }
    if (seenArns.has(arn)) at(["managedPolicyArns", i], `"${arn}" is listed twice`);
    seenArns.add(arn);
  });
  if (role.permissionsBoundary !== undefined && !IAM_POLICY_ARN.test(role.permissionsBoundary)) {
    at(
      ["permissionsBoundary"],
      `"${role.permissionsBoundary}" is not an IAM managed policy ARN (arn:aws:iam::<account>:policy/Name)`,
    );
  }

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

  if (problems.length === 0) {
    const trustPolicy = trustPolicyFor({
      ...settings,
      providerArn: oidcProviderArn(context.partition, context.accountId, providerUrlOf(context.gitlab)),
      audiences: roleAudiences(context.gitlab, role),
      allow: role.allow,
    });
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
  }
  return problems;
}

function checkAccount(account: AccountConfig, config: Config, path: (string | number)[]): Problem[] {
  const problems: Problem[] = [];
  if (account.deployRoleArn !== undefined) {
    const match = IAM_ROLE_ARN.exec(account.deployRoleArn);
    if (!match) {
      problems.push({
        path: [...path, "deployRoleArn"],
        message: `"${account.deployRoleArn}" is not an IAM role ARN (arn:aws:iam::<account>:role/name)`,
      });
    } else if (match[2] !== account.accountId) {
      problems.push({
        path: [...path, "deployRoleArn"],
        message: `the deploy role is in account ${match[2]}, but this stack manages ${account.accountId}; use a role in ${account.accountId} (the provider refuses other accounts)`,
      });
    }
  }
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

/** The audience list at `path` (a string or list in the config, `written`): count, length, characters, duplicates. */
function checkAudienceList(
  audiences: readonly string[],
  written: string | readonly string[] | undefined,
  path: readonly (string | number)[],
): Problem[] {
  const problems: Problem[] = [];
  if (written === undefined) return problems;
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
    const at = Array.isArray(written) ? [...path, i] : path;
    if (audience.length < 1 || audience.length > 255) {
      problems.push({ path: at, message: "an audience is 1–255 characters" });
    } else if (/["\\${}\s]/.test(audience)) {
      problems.push({
        path: at,
        message: `audience "${audience}" cannot contain quotes, backslashes, $, {, } or spaces`,
      });
    }
    if (seen.has(audience)) problems.push({ path: at, message: `audience "${audience}" is listed twice` });
    seen.add(audience);
  });
  return problems;
}

function checkAudiences(config: Config): Problem[] {
  const problems = checkAudienceList(audiencesOf(config.gitlab), config.gitlab.audience ?? [], [
    "gitlab",
    "audience",
  ]);
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

/** Every cross-field problem in a config that already matches the schema. */
export function checkConfig(config: Config): Problem[] {
  const problems: Problem[] = [...checkAudiences(config), ...checkPinIds(config)];
  const stackNames = new Map<string, number>();
  const providerCreatedBy = new Map<string, number>();
  config.accounts.forEach((account, i) => {
    const path = ["accounts", i];
    problems.push(...checkAccount(account, config, path));
    // Case-insensitively, and with - and _ alike: the pipeline's CI/CD variables are named after it.
    const key = stackVariableSuffix(account.name);
    if (stackNames.has(key)) {
      problems.push({
        path: [...path, "name"],
        message: `stack name "${account.name}" is already used by accounts[${stackNames.get(key)}] (names are compared ignoring case and -/_, as they name the pipeline's CI/CD variables); stack and state names must be unique`,
      });
    } else {
      stackNames.set(key, i);
    }
    if (account.provider === "create") {
      const first = providerCreatedBy.get(account.accountId);
      if (first !== undefined) {
        problems.push({
          path: [...path, "provider"],
          message: `accounts[${first}] already creates the GitLab OIDC provider in account ${account.accountId} (one per URL per account); use provider: existing here`,
        });
      } else {
        providerCreatedBy.set(account.accountId, i);
      }
    }
  });
  return problems;
}

/** Keys people reach for that mean one of ours. */
const KEY_ALIASES: Record<string, string> = {
  branch: "branches",
  tag: "tags",
  ref: "branches or tags",
  refs: "branches or tags",
  ref_type: "branches or tags",
  namespace: "group",
};

/** Claim-like grant keys that have a typed grant option, and what to write instead. */
const CLAIM_OPTIONS: Record<string, string> = {
  ref_protected: "protected: true (the default) keeps unprotected branches and tags out",
  project_id: "project: <path>; its ID is pinned from gitlab-oidc.lock.yaml (npm run resolve)",
  namespace_id: "group: <path>; its IDs are pinned from gitlab-oidc.lock.yaml (npm run resolve)",
  project_path: "project: <path>",
  namespace_path: "group: <path>",
  pipeline_source: "pipelineSources: [push, web] (gitlab.com only)",
  runner_environment: "runnerEnvironment: gitlab-hosted (gitlab.com only)",
};

/** Grant keys named after ID-token claims get their own explanation instead of "unknown key". */
export function unknownKeyMessage(key: string, knownKeys: readonly string[]): string {
  const alias = KEY_ALIASES[key];
  if (alias && alias.split(" or ").every((k) => knownKeys.includes(k))) {
    return `unknown key "${key}"; use ${alias}`;
  }
  if ((CLAIM_LIKE_KEYS as readonly string[]).includes(key) && knownKeys.includes("branches")) {
    const option = CLAIM_OPTIONS[key];
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
