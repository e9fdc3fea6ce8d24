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
import { StsStandIn } from "./sts-stand-in";

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

/** The stand-in for COMPONENT_CONFIG's stacks; `close` also removes the synthesized files. */
export async function startComponentStsStandIn(): Promise<{ sts: StsStandIn; close: () => Promise<void> }> {
  const outdir = mkdtempSync(join(tmpdir(), "component-stacks-"));
  const lock = lockFor(COMPONENT_CONFIG);
  synthesize(parse(COMPONENT_CONFIG, lock), { outdir, hcl: false });
  const sts = await StsStandIn.start(outdir, lock);
  return {
    sts,
    close: async () => {
      await sts.close();
      rmSync(outdir, { recursive: true, force: true });
    },
  };
}
