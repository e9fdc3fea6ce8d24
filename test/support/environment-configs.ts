/** TEST SUPPORT for `environments:` grants (issue 24): the sub claim with both environment parts, and configs. */
import type { SubClaimComponent } from "../../src/model/claims";
import type { RawConfig } from "./configs";

/** GitLab's default sub with both environment parts (GitLab 18.7+). */
export const SUB_WITH_ENVIRONMENT: SubClaimComponent[] = [
  "project_path",
  "ref_type",
  "ref",
  "environment_protected",
  "deployment_tier",
];

/** A grant for acme/web's main, only for jobs deploying to a protected production environment. */
export const PRODUCTION_GRANT = {
  project: "acme/web",
  branches: ["main"],
  environments: { tiers: ["production"], protected: true },
};

/** One account (111111111111) with a `deploy-production` role of `allow`, and any further roles. */
export function productionConfig(
  gitlab: Record<string, unknown>,
  allow: unknown[],
  otherRoles: unknown[] = [],
): RawConfig {
  return {
    gitlab,
    accounts: [
      {
        name: "production",
        accountId: "111111111111",
        region: "eu-west-1",
        roles: [{ name: "deploy-production", allow }, ...otherRoles],
      },
    ],
  };
}
