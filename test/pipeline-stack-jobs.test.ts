/**
 * The generated per-stack jobs (terraform/stacks.gitlab-ci.yml): one plan and one deploy job per
 * account, written by every synth, committed, and current with the config.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { parseConfig as parseConfigText } from "../src/config/load";
import { generatedFiles } from "../src/generated-files";
import { synthesize } from "../src/synth";
import { DEPLOY_AUDIENCE, PROFILES, renderStackJobs } from "../src/pipeline/stack-jobs";
import type { SynthesizedStack } from "../src/terraform/synthesized-stacks";
import { readSynthesizedStacks } from "../src/terraform/synthesized-stacks";
import { exampleLock, exampleText, synthesizedExample } from "./support/example";

type Job = {
  extends: string;
  id_tokens?: Record<string, { aud: string }>;
  environment?: { name: string; deployment_tier?: string };
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

const configText = exampleText();
const lock = exampleLock();
const parseConfig = (text: string) => parseConfigText(text, "gitlab-oidc.yaml", lock);

describe("renderStackJobs", () => {
  test("the synth writes stacks.gitlab-ci.yml, rendered from the stacks it wrote", async () => {
    // GIVEN the example synthesized, and its stacks read back from the HCL
    const { dir, config } = await synthesizedExample();
    const stacks = await readSynthesizedStacks(dir);
    // WHEN the generated files are rendered
    const files = generatedFiles(config, stacks);
    // THEN the pipeline file is among them and equals the one the synth wrote
    expect(files["stacks.gitlab-ci.yml"]).toBe(readFileSync(join(dir, "stacks.gitlab-ci.yml"), "utf8"));
  });

  const gitlabState = () =>
    parseConfig(
      configText.replace("type: local #", "{ type: gitlab, url: https://gitlab.com, projectId: 42 } #"),
    );

  test("one plan and one deploy job per account, with the stack's directory, region and credentials", () => {
    // GIVEN the example config with gitlab state and a third account added
    const config = gitlabState();
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
    const plan = jobs["plan:sandbox-eu"]!;
    const deploy = jobs["deploy:sandbox-eu"]!;
    expect(plan.extends).toBe(".terraform-plan");
    expect(plan.variables).toMatchObject({
      STACK: "sandbox-eu",
      TF_ROOT: "terraform/stacks/sandbox-eu",
      AWS_CREDENTIALS_REGION: "eu-central-1",
      AWS_CREDENTIALS_MODE: "profiles",
      GITLAB_OIDC_ROLE_ARN: "$GITLAB_OIDC_PLAN_ROLE_ARN_SANDBOX_EU",
      AWS_CREDENTIALS_DEFAULT_PROFILE: PROFILES.plan,
    });
    // AND the plan's artifacts are for developers only, with the widget report
    expect(plan.artifacts).toMatchObject({
      access: "developer",
      paths: ["terraform/stacks/sandbox-eu/plan.tfplan", "terraform/stacks/sandbox-eu/plan.txt"],
      reports: { terraform: "terraform/stacks/sandbox-eu/plan.json" },
    });
    // AND the deploy applies that plan's artifact, one at a time per stack, in an environment of
    // explicit tier, with the deploy role
    expect(deploy.extends).toBe(".terraform-deploy");
    expect(deploy.needs).toEqual([{ job: "plan:sandbox-eu", artifacts: true }]);
    expect(deploy.resource_group).toBe("sandbox-eu");
    expect(deploy.environment).toEqual({ name: "aws/sandbox-eu", deployment_tier: "production" });
    expect(deploy.variables.GITLAB_OIDC_ROLE_ARN).toBe("$GITLAB_OIDC_DEPLOY_ROLE_ARN_SANDBOX_EU");
    expect(JSON.parse(deploy.variables.AWS_CREDENTIALS_PROFILES!)).toEqual([
      {
        name: PROFILES.deployer,
        role_arn: "$GITLAB_OIDC_DEPLOY_ROLE_ARN_SANDBOX_EU",
        region: "eu-central-1",
      },
    ]);
  });

  test("every job's ID token audience is written out; only deploy jobs carry the deploy audience", () => {
    // GIVEN a config whose provider audience is not the instance URL
    const config = parseConfig(
      configText
        .replace("type: local #", "{ type: gitlab, url: https://gitlab.com, projectId: 42 } #")
        .replace("# audience: https://gitlab.com", "audience: sts.amazonaws.com"),
    );
    // WHEN the jobs are rendered
    const jobs = parse(renderStackJobs(config, [stack("production"), stack("staging")])) as Record<
      string,
      Job
    >;
    // THEN plan jobs ask for the provider's audience and deploy jobs for the deploy audience, as
    // literals: no variable (which a pipeline variable could set) decides a token's audience
    for (const s of ["production", "staging"]) {
      expect(jobs[`plan:${s}`]!.id_tokens).toEqual({ AWS_ID_TOKEN: { aud: "sts.amazonaws.com" } });
      expect(jobs[`deploy:${s}`]!.id_tokens).toEqual({ AWS_ID_TOKEN: { aud: DEPLOY_AUDIENCE } });
    }
    expect(DEPLOY_AUDIENCE).not.toMatch(/\$/);
  });

  test("state: local (the example) gets no plan or deploy job, and the file is still valid to include", () => {
    // GIVEN the example config (state: local)
    const config = parseConfig(configText);
    // WHEN the jobs are rendered
    const text = renderStackJobs(config, [stack("production"), stack("staging")]);
    const jobs = parse(text) as Record<string, unknown>;
    // THEN there is no visible job, only a hidden key (GitLab refuses an included file with no content)
    expect(Object.keys(jobs)).toEqual([".gitlab-oidc-stacks"]);
    expect(text).toMatch(/No plan or deploy jobs: state\.type is local/);
  });

  test("deployRoleArn is reached only by the deploy job, through its deployer profile", () => {
    // GIVEN production with a deployRoleArn
    const arn = "arn:aws:iam::111111111111:role/platform-deployer";
    const config = parseConfig(
      configText
        .replace("type: local #", "{ type: gitlab, url: https://gitlab.com, projectId: 42 } #")
        .replace("    provider: create\n", `    provider: create\n    deployRoleArn: ${arn}\n`),
    );
    // WHEN the jobs are rendered
    const text = renderStackJobs(config, [stack("production"), stack("staging")]);
    const jobs = parse(text) as Record<string, Job>;
    // THEN the deploy job chains deployer → deployRoleArn, and its provider profile is the end of it
    expect(JSON.parse(jobs["deploy:production"]!.variables.AWS_CREDENTIALS_PROFILES!)).toEqual([
      { name: PROFILES.deployer, role_arn: "$GITLAB_OIDC_DEPLOY_ROLE_ARN_PRODUCTION", region: "eu-west-1" },
      { name: PROFILES.deploy, role_arn: arn, source_profile: PROFILES.deployer, region: "eu-west-1" },
    ]);
    expect(jobs["deploy:production"]!.variables.AWS_CREDENTIALS_DEFAULT_PROFILE).toBe(PROFILES.deploy);
    // AND no plan job names the role anywhere (variables, profiles), and staging's deploy neither
    for (const name of ["plan:production", "plan:staging", "deploy:staging"])
      expect(stringify(jobs[name])).not.toContain(arn);
    expect(JSON.parse(jobs["plan:production"]!.variables.AWS_CREDENTIALS_PROFILES!)).toEqual([
      { name: PROFILES.plan, role_arn: "$GITLAB_OIDC_PLAN_ROLE_ARN_PRODUCTION", region: "eu-west-1" },
    ]);
  });

  test("a deployRoleArn with $, quotes or backslashes arrives in the deploy job's profiles unchanged", () => {
    // GIVEN a deployRoleArn whose IAM path holds characters JSON, YAML and GitLab's expansion treat specially
    const arn = String.raw`arn:aws:iam::111111111111:role/odd$HOME"\'/deployer`;
    const config = parseConfig(
      configText
        .replace("type: local #", "{ type: gitlab, url: https://gitlab.com, projectId: 42 } #")
        .replace(
          "    provider: create\n",
          `    provider: create\n    deployRoleArn: '${arn.replace(/'/g, "''")}'\n`,
        ),
    );
    // WHEN the jobs are rendered and GitLab expands the variable ($$ is a literal $)
    const jobs = parse(renderStackJobs(config, [stack("production"), stack("staging")])) as Record<
      string,
      Job
    >;
    const value = jobs["deploy:production"]!.variables.AWS_CREDENTIALS_PROFILES!;
    const expanded = value.replace(/\$\$|\$(\w+)/g, (...match: string[]) =>
      match[1] ? `<${match[1]}>` : "$",
    );
    // THEN the component reads exactly the ARN
    expect((JSON.parse(expanded) as { role_arn: string }[])[1]!.role_arn).toBe(arn);
  });

  test("a synth keeps each stack's committed provider lock file", () => {
    // GIVEN an output directory where a stack has a committed .terraform.lock.hcl
    const outdir = mkdtempSync(join(tmpdir(), "lock-file-"));
    try {
      const config = parseConfig(configText);
      synthesize(config, { outdir, hcl: true });
      const lock = join(outdir, "stacks", "production", ".terraform.lock.hcl");
      writeFileSync(lock, "# provider hashes\n");
      // WHEN the config is synthesized again
      synthesize(config, { outdir, hcl: true });
      // THEN the lock file is still there, unchanged (the plan and deploy jobs init with -lockfile=readonly)
      expect(readFileSync(lock, "utf8")).toBe("# provider hashes\n");
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });

  test("refuses two stacks whose CI/CD variable names would collide", () => {
    // GIVEN accounts a-b and a_b, both A_B in a variable name
    const config = parseConfig(configText);
    // WHEN the jobs are rendered
    // THEN it fails and names both
    expect(() => renderStackJobs(config, [stack("a-b"), stack("a_b")])).toThrow(/"a-b" and "a_b".*A_B/);
  });
});
