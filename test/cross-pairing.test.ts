/**
 * No cross-pairing, deterministically and in process: a grant's ID conditions never combine with another
 * grant's `sub` patterns. For every ordered pair of grants (A, B) of one role, a token with A's `sub` and
 * B's IDs is denied by the trust policy the model builds (src/model/trust-policy.ts) and by the one the
 * config rules measure; A's `sub` with A's own IDs is allowed. The grants come in pairs of the same
 * shape (two exact-branch projects, two wildcard-branch projects, two tag-only groups), so statements
 * that were merged by shape, not by their conditions, would pair one grant's sub with the other's IDs.
 * test/slow/crosscheck.test.ts adds breadth with random tokens; this is the fast check of the promise.
 */
import { providerUrlOf, roleAudiences, trustSettingsOf } from "../src/config/rules";
import type { AllowEntry } from "../src/config/schema";
import { evaluateTrustPolicy } from "../src/iam/evaluate";
import { requestContextFor } from "../src/model/claims";
import { formatSubject } from "../src/model/subjects";
import { issuerHost, oidcProviderArn, trustPolicyFor } from "../src/model/trust-policy";
import { lockFor, minimalConfig, parse } from "./support/configs";

const PROVIDER = "arn:aws:iam::111111111111:oidc-provider/gitlab.com";

/** One grant and a job it allows: the project, ref type and ref, in a namespace the lock knows. */
const GRANTS = [
  { grant: { project: "acme/web", branches: ["main"] }, job: { project: "acme/web", ref: "main" } },
  { grant: { project: "acme/api", branches: ["main"] }, job: { project: "acme/api", ref: "main" } },
  {
    grant: { project: "acme/docs", branches: ["release/*"] },
    job: { project: "acme/docs", ref: "release/1" },
  },
  {
    grant: { project: "acme/ops", branches: ["release/*"] },
    job: { project: "acme/ops", ref: "release/2" },
  },
  {
    grant: { group: "acme/libs", tags: ["v*"] },
    job: { project: "acme/libs/core", refType: "tag", ref: "v1" },
  },
  {
    grant: { group: "acme/tools", tags: ["v*"] },
    job: { project: "acme/tools/cli", refType: "tag", ref: "v2" },
  },
] as const;

// Six grants outgrow IAM's default 2,048-character quota: the raised quota an account may have.
const raw = {
  ...minimalConfig({ allow: GRANTS.map(({ grant }) => grant) }),
  limits: { trustPolicyLength: 4096 },
};
const lock = lockFor(raw);
const config = parse(raw, lock);
const gitlab = config.gitlab;
const role = config.accounts[0].roles[0];

/** The IDs GitLab puts in a token of a job the grant allows: the project's own, or one in the group. */
function idsOf(grant: (typeof GRANTS)[number]["grant"]): Record<string, string> {
  if ("project" in grant) {
    const { id, namespaceId } = lock.projects[grant.project];
    return { project_id: String(id), namespace_id: String(namespaceId) };
  }
  return { project_id: "987654", namespace_id: String(lock.groups[grant.group].id) };
}

function allowed(job: (typeof GRANTS)[number]["job"], ids: Record<string, string>): boolean {
  const refType = "refType" in job ? job.refType : "branch";
  const claims = {
    project_path: job.project,
    ref_type: refType,
    ref: job.ref,
    ref_protected: "true",
    pipeline_source: "push",
    runner_environment: "gitlab-hosted",
    ...ids,
    sub: formatSubject(job.project, refType, job.ref),
  };
  const policy = trustPolicyFor({
    ...trustSettingsOf(gitlab, config.lock),
    providerArn: PROVIDER,
    audiences: roleAudiences(gitlab, role),
    allow: role.allow as readonly AllowEntry[],
  });
  return evaluateTrustPolicy(policy, {
    federatedPrincipal: PROVIDER,
    context: requestContextFor(issuerHost(providerUrlOf(gitlab)), claims, roleAudiences(gitlab, role)[0]),
  }).allowed;
}

describe("no cross-pairing between grants (the model, every pair)", () => {
  test("the provider ARN the tests use is the one the stacks name", () => {
    expect(oidcProviderArn("aws", "111111111111", providerUrlOf(gitlab))).toBe(PROVIDER);
  });

  test.each(GRANTS.map((g) => [g.job.project, g]))(
    "GIVEN %s's job with its own IDs THEN it is allowed",
    (_name, { grant, job }) => {
      expect(allowed(job, idsOf(grant))).toBe(true);
    },
  );

  const pairs = GRANTS.flatMap((a, i) =>
    GRANTS.filter((_, j) => j !== i).map((b) => [a.job.project, b.job.project, a, b] as const),
  );
  test.each(pairs)("GIVEN %s's sub with %s's IDs THEN it is denied", (_a, _b, { job }, { grant: other }) => {
    expect(allowed(job, idsOf(other))).toBe(false);
  });
});
