/**
 * The generated per-stack jobs (terraform/stacks.gitlab-ci.yml): one plan and one deploy job per
 * account, written by every synth, committed, and current with the config.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { loadConfigFile, parseConfig as parseConfigText } from "../src/config/load";
import { readLockFor } from "../src/gitlab/lock";
import { generatedFiles } from "../src/generated-files";
import { renderStackJobs } from "../src/pipeline/stack-jobs";
import type { SynthesizedStack } from "../src/terraform/synthesized-stacks";
import { readSynthesizedStacks } from "../src/terraform/synthesized-stacks";
import { repoRoot } from "./support/pipeline-repo";

type Job = {
  extends: string;
  needs?: { job: string; artifacts: boolean }[];
  resource_group?: string;
  variables: Record<string, string>;
  artifacts?: { access: string; paths: string[]; reports: { terraform: string } };
};

const stack = (name: string, region = "eu-west-1"): SynthesizedStack => ({
  name,
  region,
  providerUrl: "https://gitlab.com",
  providerMode: "create",
  providerReference: "${aws_iam_openid_connect_provider.gitlab.arn}",
  roles: [],
});

const configText = readFileSync(join(repoRoot, "gitlab-oidc.yaml"), "utf8");
const lock = readLockFor(join(repoRoot, "gitlab-oidc.yaml"));
const parseConfig = (text: string) => parseConfigText(text, "gitlab-oidc.yaml", lock);

describe("renderStackJobs", () => {
  test("the committed terraform/stacks.gitlab-ci.yml is what the synth writes from the config", async () => {
    // GIVEN the example config and the committed, synthesized stacks
    const config = loadConfigFile(join(repoRoot, "gitlab-oidc.yaml"));
    const stacks = await readSynthesizedStacks(join(repoRoot, "terraform"));
    // WHEN the generated files are rendered
    const files = generatedFiles(config, stacks);
    // THEN the pipeline file is among them and equals the committed one (else: run npm run synth)
    expect(files["stacks.gitlab-ci.yml"]).toBe(
      readFileSync(join(repoRoot, "terraform", "stacks.gitlab-ci.yml"), "utf8"),
    );
  });

  test("one plan and one deploy job per account, with the stack's directory, region and role variables", () => {
    // GIVEN the example config with gitlab state and a third account added
    const config = parseConfig(
      configText.replace("type: local #", "{ type: gitlab, url: https://gitlab.com, projectId: 42 } #"),
    );
    const stacks = [stack("production"), stack("staging"), stack("sandbox-eu", "eu-central-1")];
    // WHEN the jobs are rendered
    const jobs = parse(renderStackJobs(config, stacks)) as Record<string, Job>;
    // THEN each stack has plan:<stack> and deploy:<stack>, and nothing else
    expect(Object.keys(jobs)).toEqual([
      "plan:production",
      "deploy:production",
      "plan:staging",
      "deploy:staging",
      "plan:sandbox-eu",
      "deploy:sandbox-eu",
    ]);
    const plan = jobs["plan:sandbox-eu"];
    const deploy = jobs["deploy:sandbox-eu"];
    expect(plan.extends).toBe(".terraform-plan");
    expect(plan.variables).toMatchObject({
      STACK: "sandbox-eu",
      TF_ROOT: "terraform/stacks/sandbox-eu",
      GITLAB_OIDC_STATE: "gitlab",
      AWS_CREDENTIALS_REGION: "eu-central-1",
      AWS_CREDENTIALS_ROLE_ARN: "$GITLAB_OIDC_PLAN_ROLE_ARN_SANDBOX_EU",
    });
    // AND the plan's artifacts are for developers only, with the widget report
    expect(plan.artifacts).toMatchObject({
      access: "developer",
      paths: expect.arrayContaining([
        "terraform/stacks/sandbox-eu/plan.tfplan",
        "terraform/stacks/sandbox-eu/plan.txt",
      ]),
      reports: { terraform: "terraform/stacks/sandbox-eu/plan.json" },
    });
    // AND the deploy applies that plan's artifact, one at a time per stack, with the deploy role
    expect(deploy.extends).toBe(".terraform-deploy");
    expect(deploy.needs).toEqual([{ job: "plan:sandbox-eu", artifacts: true }]);
    expect(deploy.resource_group).toBe("sandbox-eu");
    expect(deploy.variables.AWS_CREDENTIALS_ROLE_ARN).toBe("$GITLAB_OIDC_DEPLOY_ROLE_ARN_SANDBOX_EU");
  });

  test("records the state type, so the jobs can refuse local state", () => {
    // GIVEN the example config (state: local)
    const config = parseConfig(configText);
    // WHEN the jobs are rendered
    const jobs = parse(renderStackJobs(config, [stack("production"), stack("staging")])) as Record<
      string,
      Job
    >;
    // THEN every job says the state is local
    for (const job of Object.values(jobs)) expect(job.variables.GITLAB_OIDC_STATE).toBe("local");
  });

  test("an account's deployRoleArn is named in its jobs, but the jobs still assume the per-stack role", () => {
    // GIVEN production with a deployRoleArn (the AWS provider's assume_role)
    const arn = "arn:aws:iam::111111111111:role/platform-deployer";
    const config = parseConfig(
      configText.replace("    provider: create\n", `    provider: create\n    deployRoleArn: ${arn}\n`),
    );
    // WHEN the jobs are rendered
    const jobs = parse(renderStackJobs(config, [stack("production"), stack("staging")])) as Record<
      string,
      Job
    >;
    // THEN production's jobs record the role the provider assumes, staging's do not
    expect(jobs["deploy:production"].variables.GITLAB_OIDC_PROVIDER_ASSUMES).toBe(arn);
    expect(jobs["deploy:staging"].variables).not.toHaveProperty("GITLAB_OIDC_PROVIDER_ASSUMES");
    // AND the web-identity role is still the CI/CD variable, never the role the provider assumes from it
    expect(jobs["deploy:production"].variables.AWS_CREDENTIALS_ROLE_ARN).toBe(
      "$GITLAB_OIDC_DEPLOY_ROLE_ARN_PRODUCTION",
    );
  });

  test("refuses two stacks whose CI/CD variable names would collide", () => {
    // GIVEN accounts a-b and a_b, both A_B in a variable name
    const config = parseConfig(configText);
    // WHEN the jobs are rendered
    // THEN it fails and names both
    expect(() => renderStackJobs(config, [stack("a-b"), stack("a_b")])).toThrow(/"a-b" and "a_b".*A_B/);
  });
});
