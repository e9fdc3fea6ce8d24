/**
 * End to end (issue 24): the component's script, run under dash with the real AWS CLI, swaps a job's ID
 * token at the STS stand-in, which evaluates the trust policy synthesized from an `environments:` grant.
 * A job deploying to the protected production environment gets the production role; the same job
 * without an environment, or deploying to staging, is denied.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { loadConfigFile } from "../../src/config/load";
import { lockPathFor, serializeLock } from "../../src/gitlab/lock";
import { formatSubClaim } from "../../src/model/claims";
import { synthesize } from "../../src/synth";
import { AWS_CLI, ComponentShells } from "../support/component-shell";
import { lockFor } from "../support/configs";
import { PRODUCTION_GRANT, productionConfig, SUB_WITH_ENVIRONMENT } from "../support/environment-configs";
import { StsStandIn } from "../support/sts-stand-in";

const SUB_CLAIM = SUB_WITH_ENVIRONMENT;
const ROLE_ARN = "arn:aws:iam::111111111111:role/deploy-production";
const CONFIG = productionConfig({ url: "https://gitlab.com", subClaim: SUB_CLAIM }, [PRODUCTION_GRANT]);

jest.setTimeout(60_000);

let root: string;
let sts: StsStandIn;
let shells: ComponentShells;

beforeAll(async () => {
  if (!existsSync(AWS_CLI)) throw new Error(`this test needs ${AWS_CLI} (apt-get install awscli)`);
  // GIVEN the config with its lock, synthesized to HCL, and the STS stand-in serving those trust policies
  root = mkdtempSync(join(tmpdir(), "environment-role-"));
  const configFile = join(root, "gitlab-oidc.yaml");
  writeFileSync(configFile, stringify(CONFIG));
  writeFileSync(lockPathFor(configFile), serializeLock(lockFor(CONFIG)));
  synthesize(loadConfigFile(configFile), { outdir: join(root, "terraform"), hcl: true });
  sts = await StsStandIn.start(join(root, "terraform"));
  shells = new ComponentShells();
});

afterAll(async () => {
  await sts?.close();
  shells?.cleanup();
  if (root) rmSync(root, { recursive: true, force: true });
});

/** The component's script for a job of acme/web's main, with or without an environment. */
async function swap(environment?: { protected: boolean; tier: string }) {
  const sub = formatSubClaim(SUB_CLAIM, {
    project_path: "acme/web",
    ref_type: "branch",
    ref: "main",
    ...(environment
      ? { environment_protected: String(environment.protected), deployment_tier: environment.tier }
      : {}),
  });
  const token = sts.mintToken({ sub, ...(environment ? { environment: environment.tier } : {}) });
  return shells.run("dash", {
    env: {
      AWS_CREDENTIALS_STS_ENDPOINT: sts.url,
      AWS_CREDENTIALS_REGION: "eu-west-1",
      AWS_ID_TOKEN: token,
      AWS_CREDENTIALS_ROLE_ARN: ROLE_ARN,
    },
    after: `echo "caller=$(${AWS_CLI} sts get-caller-identity --endpoint-url "$AWS_CREDENTIALS_STS_ENDPOINT" --query Arn --output text)"`,
  });
}

test("a job deploying to the protected production environment gets the production role", async () => {
  const result = await swap({ protected: true, tier: "production" });
  expect(result.log).toContain("caller=arn:aws:sts::111111111111:assumed-role/deploy-production/");
  expect(result.status).toBe(0);
  expect(sts.assumeCalls().at(-1)?.outcome).toBe("Success");
});

test.each([
  ["without an environment", undefined],
  ["deploying to staging", { protected: true, tier: "staging" }],
])("the same job %s is denied (AccessDenied)", async (_what, environment) => {
  const result = await swap(environment);
  expect(result.status).not.toBe(0);
  expect(result.log).not.toContain("caller=arn:aws:sts");
  expect(sts.assumeCalls().at(-1)?.outcome).toBe("AccessDenied");
});
