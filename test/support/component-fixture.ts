/**
 * TEST SUPPORT ONLY: the roles the component's tests assume, from a fixture config (not the team's
 * gitlab-oidc.yaml): acme/web's deployer in production (main and release/*, protected; may put and
 * delete objects of its assets bucket) and in staging (any branch). Both named gitlab-deploy-web under
 * /gitlab/, as in the example. Synthesized to JSON in a temporary directory, with a lock, and served
 * by the STS stand-in. The audience is the default (sts.amazonaws.com).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { synthesize } from "../../src/synth";
import { lockFor, parse, type RawConfig } from "./configs";
import { STAGING_ROLE } from "./ci-local";
import { StsStandIn, type ExternalRole } from "./sts-stand-in";

export const ASSETS_BUCKET = "arn:aws:s3:::acme-web-assets";

export const COMPONENT_CONFIG: RawConfig = {
  gitlab: { url: "https://gitlab.com" },
  accounts: [
    {
      name: "production",
      accountId: "111111111111",
      region: "eu-west-1",
      roles: [
        {
          name: "gitlab-deploy-web",
          path: "/gitlab/",
          allow: [{ project: "acme/web", branches: ["main", "release/*"] }],
          inlinePolicies: {
            "deploy-assets": {
              Version: "2012-10-17",
              Statement: [
                {
                  Effect: "Allow",
                  Action: ["s3:PutObject", "s3:DeleteObject"],
                  Resource: `${ASSETS_BUCKET}/*`,
                },
              ],
            },
          },
        },
      ],
    },
    {
      name: "staging",
      accountId: "222222222222",
      region: "eu-west-1",
      roles: [
        {
          name: "gitlab-deploy-web",
          path: "/gitlab/",
          allow: [{ project: "acme/web", branches: ["*"], protected: false }],
        },
      ],
    },
  ],
};

/**
 * A role managed outside this repository (as an account's deployRoleArn is), in the staging account,
 * whose trust policy lets the staging deployer chain into it (sts:AssumeRole).
 */
export const AUDIT_ROLE: ExternalRole = {
  arn: "arn:aws:iam::222222222222:role/audit/gitlab-audit",
  trustPolicy: {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "StagingDeployer",
        Effect: "Allow",
        Principal: { AWS: [STAGING_ROLE] },
        Action: ["sts:AssumeRole"],
      },
    ],
  },
};

/** The stand-in for COMPONENT_CONFIG's stacks (and AUDIT_ROLE); `close` also removes the synthesized files. */
export async function startComponentStsStandIn(): Promise<{ sts: StsStandIn; close: () => Promise<void> }> {
  const outdir = mkdtempSync(join(tmpdir(), "component-stacks-"));
  const lock = lockFor(COMPONENT_CONFIG);
  synthesize(parse(COMPONENT_CONFIG, lock), { outdir, hcl: false });
  const sts = await StsStandIn.start(outdir, lock, { externalRoles: [AUDIT_ROLE] });
  return {
    sts,
    close: async () => {
      await sts.close();
      rmSync(outdir, { recursive: true, force: true });
    },
  };
}
