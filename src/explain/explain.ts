/**
 * "Would this pipeline get that role, and if not, why?" — for every role of the synthesized stacks,
 * the IAM decision (from the one evaluator, src/iam/evaluate.ts) and, for a denial, the closest `sub`
 * value of the trust policy and exactly which part of the claim differs from it.
 *
 * Pure: stacks and a request in, a result out. The CLI (cli.ts) only reads arguments and prints.
 */
import { DEFAULT_AUDIENCE } from "../config/rules";
import {
  evaluateTrustPolicy,
  stringLike,
  type ConditionResult,
  type Evaluation,
  type StatementResult,
} from "../iam/evaluate";
import { lockedGroup, lockedProject, type GitLabLock } from "../gitlab/lock";
import {
  ENVIRONMENT_SUB_CLAIM_COMPONENTS,
  formatSubClaim,
  requestContextFor,
  type SubClaimComponent,
} from "../model/claims";
import { ASSUME_ROLE_WITH_WEB_IDENTITY, issuerHost } from "../model/trust-policy";
import type { SynthesizedRole, SynthesizedStack } from "../terraform/synthesized-stacks";
import { combinations, describeCondition, OPEN_CLAIM_VALUES, type Assumption } from "./open-claims";
import {
  describeGrant,
  parseSubjectClaim,
  parseSubjectGrant,
  type SubjectClaims,
  type SubjectGrant,
} from "./subject";

export interface ExplainRequest {
  /** The job's `sub` claim, e.g. `project_path:acme/web:ref_type:branch:ref:main`. */
  readonly sub: string;
  /**
   * The token's other claims (`project_id`, `namespace_id`, `ref_protected`, `pipeline_source`, …).
   * Only those AWS supplies for the stack's issuer reach the trust policy (requestContextFor).
   */
  readonly claims?: Readonly<Record<string, unknown>>;
  /**
   * The token's `aud` value(s). Default: sts.amazonaws.com, the CI component's default `aud` (since
   * 2.0.0). With several, a role is allowed when any of them is.
   */
  readonly audiences?: readonly string[];
  /** The token's `iss`, when known: a stack whose provider is for another URL cannot accept it. */
  readonly issuer?: string;
  /** Only roles with this name. */
  readonly role?: string;
  /** Only the stack with this name or account id. */
  readonly account?: string;
  /**
   * Claims the question left open: each role whose answer depends on one is judged under every value
   * it can take (open-claims.ts), and its verdict says under which it holds.
   * @default every claim as given in `claims`
   */
  readonly open?: OpenQuestion;
}

/** Claims the question left open, and how to ask with each assumed value. */
export interface OpenQuestion {
  readonly claims: readonly string[];
  /** The request (sub and claims) when the open claims have the assumed values. */
  readonly requestFor: (assumed: Assumption) => Pick<ExplainRequest, "sub" | "claims">;
  /** The job, to name its ref in the condition. */
  readonly job?: Job;
}

/** A pipeline given by its project and ref, as `--project … --branch …` names it. */
export interface Job {
  readonly project: string;
  readonly refType: "branch" | "tag";
  readonly ref: string;
}

/**
 * A job given by flags → its claims as GitLab would mint them: IDs from the lock unless stated (the
 * project's own entry, else the namespace when it is a locked group), `sub` in the config's format.
 */
export function jobClaims(
  job: Job,
  stated: Readonly<Record<string, string>>,
  subClaim: readonly SubClaimComponent[],
  lock: GitLabLock | undefined,
): { sub: string; claims: Record<string, string> } {
  const claims: Record<string, string> = { ...lockedClaims(job.project, lock), ...stated };
  const sub = formatSubClaim(subClaim, {
    project_path: job.project,
    ref_type: job.refType,
    ref: job.ref,
    ...(claims.project_id !== undefined ? { project_id: claims.project_id } : {}),
    ref_protected: claims.ref_protected,
    environment_protected: claims.environment_protected,
    deployment_tier: claims.deployment_tier,
  });
  return { sub, claims };
}

/**
 * The claims GitLab would put in a token of `projectPath`, as far as the lock knows them: its namespace
 * path, its project ID, and its namespace ID (its own entry's, else the namespace's when that is a
 * locked group).
 */
export function lockedClaims(projectPath: string, lock: GitLabLock | undefined): Record<string, string> {
  const namespacePath = projectPath.slice(0, projectPath.lastIndexOf("/"));
  const locked = lockedProject(lock, projectPath);
  const namespaceId = locked?.namespaceId ?? lockedGroup(lock, namespacePath)?.id;
  return {
    namespace_path: namespacePath,
    ...(locked ? { project_id: String(locked.id) } : {}),
    ...(namespaceId !== undefined ? { namespace_id: String(namespaceId) } : {}),
  };
}

/** The part of the request that differs from a grant. */
export type DifferencePart =
  | "issuer"
  | "project"
  | "refType"
  | "ref"
  | "subject"
  | "audience"
  | "operator"
  | "principal"
  | "action"
  | "condition"
  | "explicitDeny";

export interface Difference {
  readonly part: DifferencePart;
  /** What the grant allows (a pattern, or a comma-separated list of values). */
  readonly expected: string;
  /** For a condition with several accepted values (e.g. audiences): each of them. */
  readonly expectedValues?: readonly string[];
  /** What the request has; undefined when the request lacks it. */
  readonly actual?: string;
  readonly message: string;
}

/** One `sub` value of one statement: the grant that allowed the request, or the closest one. */
export interface GrantReference {
  readonly statementIndex: number;
  readonly sid?: string;
  /** The trust policy's `sub` value (undefined for a statement without a `sub` condition). */
  readonly subValue?: string;
  /** The IAM operator the value is compared with. */
  readonly operator?: string;
  /** The value's parts, when it is in GitLab's default format. */
  readonly grant?: SubjectGrant;
  /** `project acme/web, branch main` */
  readonly description: string;
}

export interface RoleVerdict {
  readonly stack: string;
  readonly accountId?: string;
  readonly role: string;
  readonly path: string;
  /** The `aud` the verdict was decided with. */
  readonly audience: string;
  readonly allowed: boolean;
  readonly decision: Evaluation["decision"] | "WrongIssuer";
  /**
   * When the answer depends on claims the question left open: the verdict holds only under `when`
   * (`allowed` then says whether it is allowed under it), e.g. "branch feature/x is protected".
   */
  readonly dependsOn?: {
    readonly claims: readonly string[];
    readonly when: string;
    /** The assumed values the details (matched grant) were computed with. */
    readonly assumed: Assumption;
  };
  /** For an allowed role: the grant that matched. */
  readonly matched?: GrantReference;
  /** For a denied role: the closest grant and every part that differed from it. */
  readonly closest?: GrantReference & { readonly differences: readonly Difference[] };
  /**
   * When the closest grant is for another project: the closest grant that does cover the job's
   * project (the one its author more likely meant), if any.
   */
  readonly closestForProject?: GrantReference & { readonly differences: readonly Difference[] };
}

export interface ExplainResult {
  readonly sub: string;
  /** The `sub` claim's parts, when it is in GitLab's default format. */
  readonly claims?: SubjectClaims;
  /** The audiences given, or undefined for "the component's default, sts.amazonaws.com". */
  readonly audiences?: readonly string[];
  readonly issuer?: string;
  /** The request's other claims (`project_id`, `ref_protected`, …), as given. */
  readonly stated?: Readonly<Record<string, unknown>>;
  /** One verdict per selected role, in stack and role order. */
  readonly roles: readonly RoleVerdict[];
  /** Whether any selected role is allowed (whatever values the open claims have). */
  readonly allowed: boolean;
  /** No role is surely allowed, but some is under some values of the open claims. */
  readonly depends: boolean;
  /** Claims the question left open (none when everything was stated). */
  readonly open?: readonly string[];
}

/** Raised when the filters select no role: a usage error, not a denial. */
export class NoRoleSelectedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NoRoleSelectedError";
  }
}

export function explainAccess(stacks: readonly SynthesizedStack[], request: ExplainRequest): ExplainResult {
  const selectedStacks = stacks.filter(
    (stack) => request.account === undefined || [stack.name, stack.accountId].includes(request.account),
  );
  if (selectedStacks.length === 0) {
    const known = stacks.map((s) => (s.accountId ? `${s.name} (${s.accountId})` : s.name)).join(", ");
    throw new NoRoleSelectedError(`no account "${request.account}"; the stacks are: ${known || "none"}`);
  }
  const verdicts: RoleVerdict[] = [];
  for (const stack of selectedStacks) {
    for (const role of stack.roles) {
      if (request.role !== undefined && role.name !== request.role) continue;
      verdicts.push(
        request.open
          ? explainRoleWithOpenClaims(stack, role, request, request.open)
          : explainRole(stack, role, request),
      );
    }
  }
  if (verdicts.length === 0) {
    const known = [...new Set(selectedStacks.flatMap((s) => s.roles.map((r) => r.name)))].join(", ");
    const where = request.account !== undefined ? ` in account ${request.account}` : "";
    throw new NoRoleSelectedError(`no role "${request.role}"${where}; the roles are: ${known || "none"}`);
  }
  const claims = parseSubjectClaim(request.sub);
  return {
    sub: request.sub,
    ...(claims ? { claims } : {}),
    ...(request.audiences ? { audiences: [...request.audiences] } : {}),
    ...(request.issuer !== undefined ? { issuer: request.issuer } : {}),
    ...(request.claims ? { stated: request.claims } : {}),
    roles: verdicts,
    allowed: verdicts.some((v) => v.allowed && !v.dependsOn),
    depends: !verdicts.some((v) => v.allowed && !v.dependsOn) && verdicts.some((v) => v.dependsOn),
    ...(request.open && request.open.claims.length > 0 ? { open: request.open.claims } : {}),
  };
}

/**
 * One role when some claims are open: judged under every combination of the open claims it can depend
 * on (those its trust policy names, or that change the job's sub); the verdict says under which values
 * it is allowed when that is some but not all.
 */
function explainRoleWithOpenClaims(
  stack: SynthesizedStack,
  role: SynthesizedRole,
  request: ExplainRequest,
  open: OpenQuestion,
): RoleVerdict {
  const policy = JSON.stringify(role.trustPolicy);
  const baseline = open.requestFor({});
  const relevant = open.claims.filter(
    (claim) =>
      policy.includes(`:${claim}"`) ||
      (OPEN_CLAIM_VALUES[claim] ?? []).some(
        (value) => open.requestFor({ [claim]: value }).sub !== baseline.sub,
      ),
  );
  const judge = (assumed: Assumption) =>
    explainRole(stack, role, { ...request, ...open.requestFor(assumed) });
  if (relevant.length === 0) return judge({});
  const verdicts = combinations(relevant).map((assumed) => ({ assumed, verdict: judge(assumed) }));
  const allowed = verdicts.filter(({ verdict }) => verdict.allowed);
  if (allowed.length === 0 || allowed.length === verdicts.length) return judge({});
  const [first] = allowed;
  return {
    ...first.verdict,
    dependsOn: {
      claims: relevant,
      when: describeCondition(
        relevant,
        allowed.map(({ assumed }) => assumed),
        open.job,
      ),
      assumed: first.assumed,
    },
  };
}

/** One role: the first audience that is allowed, else the one whose closest grant differs least. */
export function explainRole(
  stack: SynthesizedStack,
  role: SynthesizedRole,
  request: ExplainRequest,
): RoleVerdict {
  const audiences =
    request.audiences && request.audiences.length > 0 ? request.audiences : [DEFAULT_AUDIENCE];
  const verdicts = audiences.map((audience) => explainRoleForAudience(stack, role, request, audience));
  const allowed = verdicts.find((v) => v.allowed);
  if (allowed) return allowed;
  const differences = (v: RoleVerdict) => v.closest?.differences.length ?? Number.MAX_SAFE_INTEGER;
  return verdicts.reduce((best, v) => (differences(v) < differences(best) ? v : best));
}

const stripSlash = (url: string) => url.replace(/\/+$/, "");

function explainRoleForAudience(
  stack: SynthesizedStack,
  role: SynthesizedRole,
  request: ExplainRequest,
  audience: string,
): RoleVerdict {
  const base = {
    stack: stack.name,
    ...(stack.accountId ? { accountId: stack.accountId } : {}),
    role: role.name,
    path: role.path,
    audience,
  };
  if (request.issuer !== undefined && stripSlash(request.issuer) !== stripSlash(stack.providerUrl)) {
    return {
      ...base,
      allowed: false,
      decision: "WrongIssuer",
      closest: {
        statementIndex: -1,
        description: `the account's OIDC provider for ${stack.providerUrl}`,
        differences: [
          {
            part: "issuer",
            expected: stack.providerUrl,
            actual: request.issuer,
            message: `the token was issued by ${request.issuer}, but this account trusts ${stack.providerUrl}; STS refuses it (InvalidIdentityToken) before any trust policy is read`,
          },
        ],
      },
    };
  }
  const host = issuerHost(stack.providerUrl);
  const subKey = `${host}:sub`;
  const evaluation = evaluateTrustPolicy(role.trustPolicy, {
    federatedPrincipal: stack.providerReference,
    action: ASSUME_ROLE_WITH_WEB_IDENTITY,
    context: requestContextFor(host, { ...request.claims, sub: request.sub }, audience),
  });
  if (evaluation.allowed) {
    const statement = evaluation.statements.find((s) => s.matched && s.effect === "Allow") as StatementResult;
    const subCondition = statement.conditions.find((c) => c.key === subKey && c.matchedValue !== undefined);
    return {
      ...base,
      allowed: true,
      decision: evaluation.decision,
      matched: reference(statement, subCondition),
    };
  }
  if (evaluation.decision === "ExplicitDeny") {
    const statement = evaluation.statements.find((s) => s.matched && s.effect === "Deny") as StatementResult;
    return {
      ...base,
      allowed: false,
      decision: evaluation.decision,
      closest: {
        ...reference(statement, undefined),
        differences: [
          {
            part: "explicitDeny",
            expected: "no Deny statement matching",
            message: `Deny statement ${statement.sid ?? `#${statement.index + 1}`} matches the request; a Deny wins over any Allow`,
          },
        ],
      },
    };
  }
  const candidates = evaluation.statements
    .filter((s) => s.effect === "Allow")
    .flatMap((statement) => candidatesFor(statement, subKey, stack));
  const closest = (among: Candidate[]) =>
    among.reduce<Candidate | undefined>(
      (current, candidate) => (current === undefined || closer(candidate, current) ? candidate : current),
      undefined,
    );
  const best = closest(candidates);
  const projectDiffers = (c: Candidate) => c.differences.some((d) => d.part === "project");
  const forProject =
    best && projectDiffers(best) ? closest(candidates.filter((c) => !projectDiffers(c))) : undefined;
  return {
    ...base,
    allowed: false,
    decision: evaluation.decision,
    ...(forProject
      ? { closestForProject: { ...forProject.reference, differences: forProject.differences } }
      : {}),
    closest: best
      ? { ...best.reference, differences: best.differences }
      : {
          statementIndex: -1,
          description: "no Allow statement",
          differences: [
            {
              part: "condition",
              expected: "an Allow statement",
              message: "the trust policy has no Allow statement: nobody can assume this role",
            },
          ],
        },
  };
}

interface Candidate {
  readonly reference: GrantReference;
  readonly differences: Difference[];
}

/** Fewer differences first; on a tie, one whose project matches (the likelier intent), then policy order. */
function closer(a: Candidate, b: Candidate): boolean {
  if (a.differences.length !== b.differences.length) return a.differences.length < b.differences.length;
  const projectDiffers = (c: Candidate) => c.differences.some((d) => d.part === "project");
  return !projectDiffers(a) && projectDiffers(b);
}

function reference(
  statement: StatementResult,
  subCondition: ConditionResult | undefined,
  value?: string,
): GrantReference {
  const subValue = value ?? subCondition?.matchedValue;
  const grant = subValue !== undefined ? parseSubjectGrant(subValue) : undefined;
  return {
    statementIndex: statement.index,
    ...(statement.sid ? { sid: statement.sid } : {}),
    ...(subValue !== undefined ? { subValue } : {}),
    ...(subCondition ? { operator: subCondition.operator } : {}),
    ...(grant ? { grant } : {}),
    description: grant
      ? describeGrant(grant)
      : subValue !== undefined
        ? `sub ${subValue}`
        : `statement ${statement.sid ?? `#${statement.index + 1}`} (no sub condition)`,
  };
}

/** Every `sub` value of a statement, each with the parts of the request that differ from it. */
function candidatesFor(statement: StatementResult, subKey: string, stack: SynthesizedStack): Candidate[] {
  const statementDifferences: Difference[] = [];
  if (!statement.actionMatched) {
    statementDifferences.push({
      part: "action",
      expected: "sts:AssumeRoleWithWebIdentity",
      actual: ASSUME_ROLE_WITH_WEB_IDENTITY,
      message: "the statement does not allow sts:AssumeRoleWithWebIdentity",
    });
  }
  if (!statement.principalMatched) {
    statementDifferences.push({
      part: "principal",
      expected: stack.providerReference,
      message: `the statement does not trust this account's GitLab OIDC provider (${stack.providerReference})`,
    });
  }
  const subConditions = statement.conditions.filter((c) => c.key === subKey);
  const others = statement.conditions.filter((c) => c.key !== subKey && !c.matched).map(conditionDifference);
  if (subConditions.length === 0) {
    return [
      { reference: reference(statement, undefined), differences: [...statementDifferences, ...others] },
    ];
  }
  return subConditions.flatMap((condition) => {
    const otherSub = subConditions.filter((c) => c !== condition && !c.matched).map(conditionDifference);
    return condition.values.map((value) => ({
      reference: reference(statement, condition, value),
      differences: [
        ...statementDifferences,
        ...subjectDifferences(condition.operator, value, condition.actual),
        ...otherSub,
        ...others,
      ],
    }));
  });
}

function conditionDifference(condition: ConditionResult): Difference {
  const expected = condition.values.join(", ");
  if (condition.key.endsWith(":aud")) {
    return {
      part: "audience",
      expected,
      expectedValues: [...condition.values],
      ...(condition.actual !== undefined ? { actual: condition.actual } : {}),
      message:
        condition.actual === undefined
          ? `the token has no aud; the role requires ${quoteList(condition.values)}`
          : `aud "${condition.actual}" is not ${condition.values.length === 1 ? "" : "one of "}${quoteList(condition.values)} (set the job's id_tokens aud, or the CI component's aud input, to it)`,
    };
  }
  const claim = condition.key.slice(condition.key.lastIndexOf(":") + 1);
  // A missing ID is one explain was not told (a real gitlab.com token always carries it), not a wrong one.
  const why =
    condition.actual === undefined && Object.hasOwn(UNKNOWN_ID_MEANING, claim)
      ? UNKNOWN_ID_MEANING[claim]
      : CONDITION_MEANING[claim];
  return {
    part: "condition",
    expected: `${condition.operator} ${condition.key} ${expected}`,
    expectedValues: [...condition.values],
    ...(condition.actual !== undefined ? { actual: condition.actual } : {}),
    message:
      (condition.actual === undefined
        ? `the request has no ${condition.key}, required by ${condition.operator} ${quoteList(condition.values)}`
        : `${condition.key} "${condition.actual}" does not satisfy ${condition.operator} ${quoteList(condition.values)}`) +
      (why ? ` (${why})` : ""),
  };
}

/** What a failed condition on a gitlab.com key usually means, for the reader of a denial. */
const CONDITION_MEANING: Record<string, string> = {
  project_id:
    "another project than the one the lock names for this path: a recycled, renamed or moved path, or an outdated lock (npm run resolve -- --check)",
  namespace_id:
    "the project is not in the granted group or its subgroups as the lock records them: moved, a recycled group path, or a subgroup newer than the lock (npm run resolve)",
  ref_protected:
    "the branch or tag is not protected: protect it in GitLab, or grant protected: false on purpose",
  pipeline_source: "the pipeline was started by a source the grant's pipelineSources leaves out",
  runner_environment: "the job ran on a runner the grant's runnerEnvironment leaves out",
  user_access_level:
    "the user the job runs as (who pushed, pressed play or started the pipeline) has a project role the grant's userAccessLevels leaves out",
};

/** Why a job given by flags can lack an ID claim, and how to state it. */
const UNKNOWN_ID_MEANING: Record<string, string> = {
  project_id:
    "the lock names no ID for this project path, so the job's project ID is unknown here: state it with --project-id (a real token carries it)",
  namespace_id:
    "the job's namespace ID is unknown here: the lock records a group's subgroups by ID, not by path, so for a project in a subgroup state it with --namespace-id (a real token carries it)",
};

const quoteList = (values: readonly string[]) => values.map((v) => `"${v}"`).join(", ");

/** The comparison an operator makes, for diagnosing the parts of a value. */
function comparer(operator: string): ((pattern: string, value: string) => boolean) | undefined {
  const base = operator.replace(/IfExists$/, "");
  if (base === "StringEquals") return (p, v) => p === v;
  if (base === "StringEqualsIgnoreCase") return (p, v) => p.toLowerCase() === v.toLowerCase();
  if (base === "StringLike") return stringLike;
  return undefined;
}

/** The parts of the `sub` claim that differ from one trust policy value (empty when it matches). */
export function subjectDifferences(
  operator: string,
  value: string,
  actual: string | undefined,
): Difference[] {
  if (actual === undefined) {
    return [{ part: "subject", expected: value, message: "the request has no sub claim" }];
  }
  const compare = comparer(operator);
  if (!compare) {
    return [
      {
        part: "operator",
        expected: `${operator} "${value}"`,
        actual,
        message: `sub is compared with ${operator}, which this explanation does not break into parts`,
      },
    ];
  }
  if (compare(value, actual)) return [];
  if (!operator.startsWith("StringLike") && /[*?]/.test(value) && stringLike(value, actual)) {
    return [
      {
        part: "operator",
        expected: `StringLike "${value}"`,
        actual,
        message: `"${value}" has a wildcard, but ${operator} compares it literally: the value needs StringLike`,
      },
    ];
  }
  const grant = parseSubjectGrant(value);
  const claims = parseSubjectClaim(actual);
  const whole: Difference = {
    part: "subject",
    expected: value,
    actual,
    message: `sub "${actual}" does not match "${value}"`,
  };
  if (!grant || !claims) return [whole];

  const differences: Difference[] = [];
  if (grant.scope === "id") {
    if (!compare(grant.path, claims.projectId ?? "")) {
      differences.push({
        part: "project",
        expected: grant.path,
        ...(claims.projectId !== undefined ? { actual: claims.projectId } : {}),
        message:
          claims.projectId === undefined
            ? `the sub names the project by path, the grant by ID ${grant.path} (set the project's sub claim components to start with project_id)`
            : `project ID ${claims.projectId} is not ${grant.path}`,
      });
    }
  } else if (!compare(grant.projectPattern, claims.projectPath)) {
    differences.push(projectDifference(grant, claims.projectPath));
  }
  if (grant.refType !== "*") {
    if (!compare(grant.refType, claims.refType)) {
      differences.push({
        part: "refType",
        expected: grant.refType,
        actual: claims.refType,
        message: `ref type is ${claims.refType}, the grant is for a ${grant.refType}${claims.ref !== undefined ? ` (${claims.refType} "${claims.ref}")` : ""}`,
      });
    }
    const pattern = grant.ref ?? "";
    if (claims.ref === undefined || !compare(pattern, claims.ref)) {
      const kind = claims.refType === "tag" || claims.refType === "branch" ? claims.refType : "ref";
      differences.push({
        part: "ref",
        expected: pattern,
        ...(claims.ref !== undefined ? { actual: claims.ref } : {}),
        message:
          claims.ref === undefined
            ? `the sub claim has no ref; the grant needs ${grant.refType} "${pattern}"`
            : /[*?]/.test(pattern) && compare === stringLike
              ? `${kind} "${claims.ref}" does not match the pattern "${pattern}"`
              : `${kind} "${claims.ref}" is not "${pattern}"`,
      });
    }
  }
  for (const [name, pattern] of Object.entries(grant.other ?? {})) {
    const actualValue = claims.other?.[name];
    if (actualValue === undefined || !compare(pattern, actualValue)) {
      differences.push({
        part: "subject",
        expected: `${name}:${pattern}`,
        ...(actualValue !== undefined ? { actual: `${name}:${actualValue}` } : {}),
        message: subPartMessage(name, pattern, actualValue),
      });
    }
  }
  // The parts all match but the whole does not (e.g. a customised sub with extra parts): say so plainly.
  return differences.length > 0 ? differences : [whole];
}

/** Why one `name:value` part of the sub differs from what a grant's value needs. */
function subPartMessage(name: string, pattern: string, actual: string | undefined): string {
  const isEnvironmentPart = ENVIRONMENT_SUB_CLAIM_COMPONENTS.includes(name as SubClaimComponent);
  if (actual === undefined && isEnvironmentPart) {
    return (
      `the sub claim has no ${name}: the job deploys to no environment (GitLab leaves ${name} out of sub then), and the grant needs ${name} ${pattern}; ` +
      "deploy from a job with environment: (explain: state it with --environment-tier), or check that the project's sub claim components are the config's gitlab.subClaim"
    );
  }
  if (actual === undefined) {
    return `the sub claim has no ${name}; the grant needs ${name} ${pattern} (are the project's sub claim components the config's gitlab.subClaim?)`;
  }
  switch (name) {
    case "ref_protected":
      return `the ref is not protected (ref_protected:${actual}); protect it in GitLab, or grant protected: false on purpose`;
    case "environment_protected":
      return `the environment is not protected (environment_protected:${actual}); protect it in GitLab (Settings > CI/CD > Protected environments), or grant environments.protected: false on purpose`;
    case "deployment_tier":
      return `the environment's tier is ${actual}, the grant needs ${pattern} (the job's environment:deployment_tier)`;
    default:
      return `${name} is ${actual}, the grant needs ${pattern}`;
  }
}

function projectDifference(grant: SubjectGrant, projectPath: string): Difference {
  const base = { part: "project" as const, expected: grant.projectPattern, actual: projectPath };
  if (grant.scope === "project") {
    return { ...base, message: `project path "${projectPath}" is not "${grant.path}"` };
  }
  if (grant.scope === "group") {
    const group = grant.path;
    const message =
      projectPath === group
        ? `"${projectPath}" is the group itself; the grant covers projects below it ("${group}/…")`
        : projectPath.startsWith(group)
          ? `project path "${projectPath}" is not below group "${group}": it only starts with the same characters (a sibling namespace); the grant covers "${group}/…"`
          : `project path "${projectPath}" is not below group "${group}"`;
    return { ...base, message };
  }
  return { ...base, message: `project path "${projectPath}" does not match "${grant.projectPattern}"` };
}
