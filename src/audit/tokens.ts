/**
 * GitLab ID tokens as AWS sees them, built from the model (src/model/claims.ts: which claims AWS
 * supplies for an issuer, how GitLab formats `sub`), and sampled from what a policy mentions. The audit
 * decides "who gets in" by sending such tokens through the evaluator, never by reading patterns alone;
 * `--to-config` and its tests compare two policies on the same samples.
 */
import {
  DEFAULT_SUB_CLAIM,
  formatSubClaim,
  SUB_CLAIM_COMPONENTS,
  suppliedClaimKeys,
  type SubClaimComponent,
} from "../model/claims";
import { hasWildcard } from "../model/subjects";
import type { IamConditions } from "../model/trust-policy";

export interface TokenSpec {
  readonly projectPath: string;
  readonly projectId: string;
  readonly namespaceId: string;
  readonly refType: "branch" | "tag";
  readonly ref: string;
  readonly refProtected: "true" | "false";
  readonly aud: string;
  /** How the project formats `sub` (`ci_id_token_sub_claim_components`). */
  readonly subComponents: readonly SubClaimComponent[];
  /** Other claims (pipeline_source, user_login, …) by name. */
  readonly claims?: Readonly<Record<string, string>>;
}

/** The token's `sub`, as GitLab formats it for this project. */
export function subOf(spec: TokenSpec): string {
  return formatSubClaim(spec.subComponents, {
    project_path: spec.projectPath,
    project_id: spec.projectId,
    ref_type: spec.refType,
    ref: spec.ref,
    ref_protected: spec.refProtected,
  });
}

/** The request context AWS builds from the token: only the claims it supplies for this issuer. */
export function tokenContext(issuerHost: string, spec: TokenSpec): Record<string, string> {
  const claims: Record<string, string> = {
    pipeline_source: "push",
    runner_environment: "gitlab-hosted",
    user_access_level: "developer",
    ...spec.claims,
    sub: subOf(spec),
    aud: spec.aud,
    project_id: spec.projectId,
    namespace_id: spec.namespaceId,
    ref_protected: spec.refProtected,
  };
  const supplied = suppliedClaimSet(issuerHost);
  const context: Record<string, string> = {};
  for (const [claim, value] of Object.entries(claims)) {
    if (supplied.has(claim)) context[`${issuerHost}:${claim}`] = value;
  }
  return context;
}

const suppliedSets = new Map<string, ReadonlySet<string>>();

/** suppliedClaimKeys as a set, once per issuer: tokenContext runs for every sampled token. */
function suppliedClaimSet(issuerHost: string): ReadonlySet<string> {
  let set = suppliedSets.get(issuerHost);
  if (!set) {
    set = new Set(suppliedClaimKeys(issuerHost));
    suppliedSets.set(issuerHost, set);
  }
  return set;
}

/** A `sub` value (or pattern) split into GitLab's components, as far as its text shows them. */
export interface SubPattern {
  /** Text before the first component name (`*` in `*`, `project_` in `project_*`); "" when it starts with one. */
  readonly lead: string;
  readonly components: readonly SubClaimComponent[];
  /** Each component's text, wildcards kept; a `*` may stand for several components. */
  readonly values: Readonly<Partial<Record<SubClaimComponent, string>>>;
}

const COMPONENT_MARK = new RegExp(`(?:^|:)(${SUB_CLAIM_COMPONENTS.join("|")}):`, "g");

export function parseSubPattern(value: string): SubPattern {
  const marks = [...value.matchAll(COMPONENT_MARK)];
  const components: SubClaimComponent[] = [];
  // No prototype: `values.project_path` is only ever what the pattern says.
  const values: Partial<Record<SubClaimComponent, string>> = Object.create(null);
  marks.forEach((mark, i) => {
    const component = mark[1] as SubClaimComponent;
    if (components.includes(component)) return;
    const end = i + 1 < marks.length ? marks[i + 1].index : value.length;
    components.push(component);
    values[component] = value.slice(mark.index + mark[0].length, end);
  });
  return { lead: marks.length > 0 ? value.slice(0, marks[0].index) : value, components, values };
}

/** The `sub` components a pattern says the project uses; GitLab's default when it says nothing. */
export function subComponentsOf(pattern: SubPattern): readonly SubClaimComponent[] {
  const first = pattern.components[0];
  // `project_path:acme/web:ref_type:*` is the default format with a wildcard for the rest, not a
  // project whose sub stops at ref_type: a prefix of the default is the default.
  const prefixOfDefault = pattern.components.every((component, i) => DEFAULT_SUB_CLAIM[i] === component);
  return pattern.lead === "" && (first === "project_path" || first === "project_id") && !prefixOfDefault
    ? pattern.components
    : DEFAULT_SUB_CLAIM;
}

/** A concrete value the pattern matches: each `*` replaced by `filler`, each `?` by `x`. */
export function instantiate(pattern: string, filler: string): string {
  return pattern.replace(/\*/g, filler).replace(/\?/g, "x");
}

const PROJECT_PATH = /^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)+$/;
const REF = /^[^\s:~^[\\*?]+$/;

export function isProjectPath(path: string): boolean {
  return PROJECT_PATH.test(path);
}

function unique<T>(values: Iterable<T>): T[] {
  return [...new Set(values)];
}

/** Keys and values of a statement's conditions, flattened. */
export function conditionEntries(
  conditions: IamConditions,
): { operator: string; key: string; values: string[] }[] {
  return Object.entries(conditions).flatMap(([operator, keys]) =>
    Object.entries(keys).map(([key, values]) => ({ operator, key, values })),
  );
}

export function isNegated(operator: string): boolean {
  return /Not(Equals|Like)/.test(operator);
}

/** Values of positive conditions on `<issuerHost>:<claim>` across the given conditions. */
export function claimValues(
  conditionsList: readonly IamConditions[],
  issuerHost: string,
  claim: string,
): string[] {
  const key = `${issuerHost}:${claim}`.toLowerCase();
  return conditionsList.flatMap((conditions) =>
    conditionEntries(conditions)
      .filter(
        (entry) => entry.key === key && !isNegated(entry.operator) && !entry.operator.startsWith("Null"),
      )
      .flatMap((entry) => entry.values),
  );
}

/** A project outside anything a policy names. */
export const OUTSIDER = {
  projectPath: "audit-outsider/project",
  projectId: "900000001",
  namespaceId: "900000002",
};

/**
 * Projects near what the patterns name: each path's instances, its siblings (`acme/web-x`), children and
 * parent, and an outsider. These are where a converted policy and its original could disagree.
 */
export function nearbyProjects(pathPatterns: readonly string[]): string[] {
  const projects = pathPatterns.flatMap((pattern) => {
    const instances = hasWildcard(pattern)
      ? ["x", "x/y", "", "-x/y"].map((f) => instantiate(pattern, f))
      : [pattern];
    return instances.flatMap((path) => {
      const parent = path.split("/").slice(0, -1).join("/");
      return [
        path,
        `${path}-x`,
        `${path}x`,
        `${path}/x`,
        ...(parent.includes("/") ? [parent] : []),
        `${parent}/x`,
      ];
    });
  });
  return unique([...projects, OUTSIDER.projectPath]).filter(isProjectPath);
}

/** Refs near what the patterns name: their instances, extensions, and a few ordinary names. */
export function nearbyRefs(refPatterns: readonly string[]): string[] {
  const refs = refPatterns.flatMap((pattern) =>
    ["x", "x/y", "-x"].map((f) => instantiate(pattern, f)).flatMap((ref) => [ref, `${ref}x`, `${ref}/x`]),
  );
  return unique([...refs, "main", "audit-probe/branch", "v9.9.9"]).filter((ref) => REF.test(ref));
}

/** The claim values a policy's conditions mention (instantiated), plus one it does not. */
function mentionedValues(values: readonly string[], other: string): string[] {
  return unique([...values.map((v) => instantiate(v, "x")), other]);
}

/** Claims sampleTokens varies on their own axes; every other supplied claim is varied one at a time. */
const SAMPLED_CLAIMS = new Set(["aud", "sub", "amr", "project_id", "namespace_id", "ref_protected"]);

export interface SampleOptions {
  /** Condition sets of every statement whose decisions are being sampled. */
  readonly conditions: readonly IamConditions[];
  readonly issuerHost: string;
  /** Cap on the number of tokens (the product is cut evenly). @default 20000 */
  readonly limit?: number;
}

/**
 * Tokens that exercise every boundary the conditions draw: nearby projects and refs, both ref types,
 * protected and not, mentioned and unmentioned audiences and IDs, and each `sub` format in use.
 */
export function sampleTokens(options: SampleOptions): TokenSpec[] {
  const { conditions, issuerHost } = options;
  const subPatterns = claimValues(conditions, issuerHost, "sub").map(parseSubPattern);
  const paths = subPatterns.flatMap((p) =>
    p.values.project_path !== undefined ? [p.values.project_path] : [],
  );
  const refs = subPatterns.flatMap((p) => (p.values.ref !== undefined ? [p.values.ref] : []));
  const projects = nearbyProjects(paths.length > 0 ? paths : [OUTSIDER.projectPath]);
  const refNames = nearbyRefs(refs);
  const formats = unique(
    [DEFAULT_SUB_CLAIM, ...subPatterns.map(subComponentsOf)].map((components) => components.join(",")),
  ).map((joined) => joined.split(",") as SubClaimComponent[]);
  const ids = [
    ...subPatterns.flatMap((p) =>
      p.values.project_id !== undefined ? [instantiate(p.values.project_id, "9")] : [],
    ),
    ...claimValues(conditions, issuerHost, "project_id").map((v) => instantiate(v, "9")),
  ];
  const projectIds = unique([...ids, OUTSIDER.projectId]);
  const namespaceIds = mentionedValues(
    claimValues(conditions, issuerHost, "namespace_id"),
    OUTSIDER.namespaceId,
  );
  const auds = mentionedValues(claimValues(conditions, issuerHost, "aud"), "https://audit-probe.invalid");
  // Other claims AWS supplies (gitlab.com): each mentioned value, and one unmentioned, varied one at a time.
  const otherClaims = suppliedClaimKeys(issuerHost)
    .filter((claim) => !SAMPLED_CLAIMS.has(claim))
    .map((claim) => ({ claim, values: claimValues(conditions, issuerHost, claim) }))
    .filter((c) => c.values.length > 0);
  const baseClaims = Object.fromEntries(otherClaims.map((c) => [c.claim, instantiate(c.values[0], "x")]));
  const claimVariants: Record<string, string>[] = [
    baseClaims,
    ...otherClaims.flatMap((c) =>
      mentionedValues(c.values, "audit-probe-other").map((value) => ({ ...baseClaims, [c.claim]: value })),
    ),
  ];

  const tokens: TokenSpec[] = [];
  for (const subComponents of formats)
    for (const projectPath of projects)
      for (const projectId of projectIds)
        for (const namespaceId of namespaceIds)
          for (const refType of ["branch", "tag"] as const)
            for (const ref of refNames)
              for (const refProtected of ["true", "false"] as const)
                for (const aud of auds)
                  for (const claims of claimVariants)
                    tokens.push({
                      projectPath,
                      projectId,
                      namespaceId,
                      refType,
                      ref,
                      refProtected,
                      aud,
                      subComponents,
                      claims,
                    });
  const limit = options.limit ?? 20000;
  if (tokens.length <= limit) return tokens;
  const step = tokens.length / limit;
  return Array.from({ length: limit }, (_, i) => tokens[Math.floor(i * step)]);
}
