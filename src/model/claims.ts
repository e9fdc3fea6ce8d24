/**
 * Which GitLab ID-token claims AWS can see, and how GitLab builds the `sub` claim. The one table that
 * the config rules, the trust policy model, `explain`, the access report and the audit all read.
 *
 * Sources (see ../shared/FACTS.md):
 * - IAM User Guide, "Available keys for AWS web identity federation": for the gitlab.com provider AWS
 *   supplies `gitlab.com:<claim>` for the claims in GITLAB_COM_CLAIM_KEYS; for any other issuer only
 *   `<issuer>:aud`, `<issuer>:sub` (and `amr`).
 * - A condition on a key that AWS does not supply is not ignored: the key is missing from the request,
 *   so StringEquals/StringLike on it fail and every job is denied.
 * - GitLab `lib/gitlab/ci/jwt_v2.rb`: `sub` is the project's `ci_id_token_sub_claim_components` as
 *   `name:value` pairs joined with `:`, skipping components whose value is absent.
 */

/** The issuer host of gitlab.com, the one issuer AWS supplies extra claim keys for. */
export const GITLAB_COM_ISSUER_HOST = "gitlab.com";

/** Claims AWS supplies as condition keys for every OIDC issuer. */
export const GENERIC_CLAIM_KEYS = ["aud", "sub", "amr"] as const;

/** Claims AWS supplies as `gitlab.com:<claim>` for the gitlab.com provider, on top of the generic ones. */
export const GITLAB_COM_CLAIM_KEYS = [
  "project_id",
  "namespace_id",
  "ref_protected",
  "pipeline_source",
  "runner_environment",
  "user_id",
  "user_login",
  "user_email",
  "user_access_level",
] as const;

/**
 * The ID token's `user_access_level` claim: the project role of the user the job runs as (who pushed,
 * pressed play or started the pipeline), as GitLab spells it (`Gitlab::Access`'s names, lower case).
 */
export const USER_ACCESS_LEVELS = [
  "guest",
  "planner",
  "reporter",
  "developer",
  "maintainer",
  "owner",
] as const;

/** The claim names (without the issuer prefix) AWS supplies for tokens of this issuer host. */
export function suppliedClaimKeys(issuerHost: string): readonly string[] {
  return issuerHost === GITLAB_COM_ISSUER_HOST
    ? [...GENERIC_CLAIM_KEYS, ...GITLAB_COM_CLAIM_KEYS]
    : [...GENERIC_CLAIM_KEYS];
}

/** Does AWS supply `<issuerHost>:<claim>` in the request context? */
export function isSuppliedClaim(issuerHost: string, claim: string): boolean {
  return suppliedClaimKeys(issuerHost).includes(claim);
}

/** Components GitLab accepts in `ci_id_token_sub_claim_components` (GitLab 18.7+). */
export const SUB_CLAIM_COMPONENTS = [
  "project_path",
  "project_id",
  "ref_type",
  "ref",
  "ref_protected",
  "environment_protected",
  "deployment_tier",
] as const;
export type SubClaimComponent = (typeof SUB_CLAIM_COMPONENTS)[number];

/** The components GitLab must start `sub` with: the project, by path or by ID. */
export const SUB_CLAIM_FIRST_COMPONENTS = ["project_path", "project_id"] as const;

/** GitLab's default `sub`: `project_path:{path}:ref_type:{branch|tag}:ref:{name}`. */
export const DEFAULT_SUB_CLAIM: readonly SubClaimComponent[] = ["project_path", "ref_type", "ref"];

/**
 * `sub` as GitLab builds it: each component with a value as `name:value`, joined with `:`; components
 * whose value is undefined are skipped (GitLab omits e.g. `environment_protected` for a job without an
 * environment). Values may be patterns (`*`); the caller picks the operator from the result.
 */
export function formatSubClaim(
  components: readonly SubClaimComponent[],
  values: Readonly<Partial<Record<SubClaimComponent, string>>>,
): string {
  return components
    .filter((component) => values[component] !== undefined)
    .map((component) => `${component}:${values[component]}`)
    .join(":");
}

/** A claim AWS supplies for `<issuerHost>:<claim>`; a condition on any other key finds it missing. */
export type SuppliedClaim = (typeof GENERIC_CLAIM_KEYS)[number] | (typeof GITLAB_COM_CLAIM_KEYS)[number];

/** Claims whose value GitLab leaves out of `sub` for a job without an environment. */
export const ENVIRONMENT_SUB_CLAIM_COMPONENTS: readonly SubClaimComponent[] = [
  "environment_protected",
  "deployment_tier",
];

/**
 * GitLab's deployment tiers (`environment:deployment_tier`, the token's `deployment_tier` claim). An
 * environment without an explicit tier gets one guessed from its name, `other` when nothing fits
 * (GitLab `doc/ci/environments/_index.md`, "Deployment tier of environments").
 */
export const DEPLOYMENT_TIERS = ["production", "staging", "testing", "development", "other"] as const;
export type DeploymentTier = (typeof DEPLOYMENT_TIERS)[number];

/**
 * The request context AWS STS builds from a GitLab ID token for `sts:AssumeRoleWithWebIdentity`: one
 * `<issuerHost>:<claim>` key per claim AWS supplies for that issuer and the token carries, with the
 * claim's value as a string (GitLab sends IDs as strings already). `aud` is the one audience the call is
 * decided with (a token may carry several). Keys AWS does not supply are absent, as they are in IAM.
 * The evaluator, `explain`, the STS stand-in and the cross-check all build their context here.
 */
export function requestContextFor(
  issuerHost: string,
  claims: Readonly<Record<string, unknown>>,
  audience?: string,
): Record<string, string> {
  const context: Record<string, string> = {};
  for (const claim of suppliedClaimKeys(issuerHost)) {
    const value = claim === "aud" && audience !== undefined ? audience : claims[claim];
    if (typeof value === "string") context[`${issuerHost}:${claim}`] = value;
    else if (typeof value === "number" || typeof value === "boolean") {
      context[`${issuerHost}:${claim}`] = String(value);
    }
  }
  return context;
}

/** GitLab's pipeline sources (`CI_PIPELINE_SOURCE`, the ID token's `pipeline_source` claim). */
export const PIPELINE_SOURCES = [
  "api",
  "chat",
  "external",
  "external_pull_request_event",
  "merge_request_event",
  "ondemand_dast_scan",
  "ondemand_dast_validation",
  "parent_pipeline",
  "pipeline",
  "push",
  "schedule",
  "security_orchestration_policy",
  "trigger",
  "web",
  "webide",
] as const;

/** The ID token's `runner_environment` claim: GitLab-hosted (gitlab.com's runners) or self-hosted. */
export const RUNNER_ENVIRONMENTS = ["gitlab-hosted", "self-hosted"] as const;
