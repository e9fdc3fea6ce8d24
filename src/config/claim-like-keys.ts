/**
 * ID-token claims people write as grant keys. Some have a typed option in the schema (see CLAIM_OPTIONS
 * in rules.ts); for the others AWS supplies no condition key for the issuer (see src/model/claims.ts),
 * so a condition on them would find the key missing and deny every job.
 *
 * Apart from the schema (./schema.ts re-exports it): the rules read it on every run, and the schema is
 * built only when a run parses something (./lazy-schema.ts).
 */
export const CLAIM_LIKE_KEYS = [
  "environment",
  "environment_protected",
  "deployment_tier",
  "deployment_action",
  "ref_protected",
  "pipeline_source",
  "namespace_id",
  "namespace_path",
  "project_id",
  "project_path",
  "user_id",
  "user_login",
  "user_email",
  "user_access_level",
  "runner_id",
  "runner_environment",
  "sha",
  "ci_config_ref_uri",
  "ci_config_sha",
  "job_id",
  "pipeline_id",
  "ref_path",
] as const;
/** @deprecated the old name of CLAIM_LIKE_KEYS (AWS does evaluate some of them on gitlab.com). */
export const UNEVALUATED_CLAIMS = CLAIM_LIKE_KEYS;
