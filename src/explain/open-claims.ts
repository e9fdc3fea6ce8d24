/**
 * What explain does not know: claims the question left open (no `--protected`/`--unprotected`, no
 * `--pipeline-source`, …). A role whose trust policy (or the job's `sub`) depends on one is judged under
 * every value it can take, and the answer says under which values it holds ("ALLOWED only if feature/x
 * is protected"), instead of assuming one.
 */
import { PIPELINE_SOURCES, RUNNER_ENVIRONMENTS, USER_ACCESS_LEVELS } from "../model/claims";
import type { Job } from "./explain";

/** The claims a question can leave open, and every value each can take. */
export const OPEN_CLAIM_VALUES: Readonly<Record<string, readonly string[]>> = {
  ref_protected: ["true", "false"],
  pipeline_source: PIPELINE_SOURCES,
  runner_environment: RUNNER_ENVIRONMENTS,
  user_access_level: USER_ACCESS_LEVELS,
};

/** The flag that states each open claim. */
export const OPEN_CLAIM_FLAGS: Readonly<Record<string, string>> = {
  ref_protected: "--protected or --unprotected",
  pipeline_source: "--pipeline-source",
  runner_environment: "--runner-environment",
  user_access_level: "--user-access-level",
};

export type Assumption = Readonly<Record<string, string>>;

/** Every combination of values of `claims` (in order). */
export function combinations(claims: readonly string[]): Assumption[] {
  return claims.reduce<Assumption[]>(
    (sofar, claim) =>
      sofar.flatMap((combo) =>
        (OPEN_CLAIM_VALUES[claim] ?? []).map((value) => ({ ...combo, [claim]: value })),
      ),
    [{}],
  );
}

/**
 * The condition under which `allowed` (a subset of the combinations of `claims`) holds, in words: a
 * conjunction per claim when the set is a product (the usual case), else the combinations joined by "or".
 */
export function describeCondition(
  claims: readonly string[],
  allowed: readonly Assumption[],
  job?: Job,
): string {
  const per = claims.map((claim) => [claim, [...new Set(allowed.map((combo) => combo[claim]))]] as const);
  const productSize = per.reduce((n, [, values]) => n * values.length, 1);
  const phrase = (claim: string, values: readonly string[]) => describeValues(claim, values, job);
  if (productSize === allowed.length) {
    return per
      .filter(([claim, values]) => values.length < (OPEN_CLAIM_VALUES[claim]?.length ?? 0))
      .map(([claim, values]) => phrase(claim, values))
      .join(" and ");
  }
  return allowed
    .map((combo) => claims.map((claim) => phrase(claim, [combo[claim]])).join(" and "))
    .join(", or ");
}

function describeValues(claim: string, values: readonly string[], job?: Job): string {
  const ref = job ? `${job.refType} ${job.ref}` : "the ref";
  if (claim === "ref_protected")
    return values[0] === "true" ? `${ref} is protected` : `${ref} is not protected`;
  const all = OPEN_CLAIM_VALUES[claim] ?? [];
  const name =
    claim === "pipeline_source"
      ? "the pipeline source"
      : claim === "user_access_level"
        ? "the user's role"
        : "the runner";
  const list = (items: readonly string[]) =>
    items.length === 1 ? items[0] : `${items.slice(0, -1).join(", ")} or ${items[items.length - 1]}`;
  const excluded = all.filter((value) => !values.includes(value));
  if (excluded.length > 0 && excluded.length < values.length) return `${name} is not ${list(excluded)}`;
  return `${name} is ${list(values)}`;
}
