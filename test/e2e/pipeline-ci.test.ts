/**
 * This repository's own pipeline (.gitlab-ci.yml + the generated terraform/stacks.gitlab-ci.yml +
 * templates/aws-credentials.yml): valid for GitLab, the right jobs in merge-request and default-branch
 * pipelines, and validate jobs that really pass on a clean checkout of the working tree.
 */
import Ajv from "ajv";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  copyRepository,
  gitlabCiSchemaFile,
  listJobs,
  parseCiYaml,
  previewPipeline,
  removeRepository,
  repoRoot,
  runGitlabCiLocal,
} from "../support/pipeline-repo";

const VALIDATE_JOBS = ["typecheck", "lint", "format", "unit-tests", "committed-hcl-current"];
const STACKS = ["production", "staging"];
const MR = { CI_PIPELINE_SOURCE: "merge_request_event", CI_MERGE_REQUEST_IID: "7" };
const DEFAULT_BRANCH = { CI_PIPELINE_SOURCE: "push", CI_COMMIT_BRANCH: "main", CI_DEFAULT_BRANCH: "main" };
const FEATURE_BRANCH = {
  CI_PIPELINE_SOURCE: "push",
  CI_COMMIT_BRANCH: "feature/x",
  CI_DEFAULT_BRANCH: "main",
};

type PreviewJob = {
  stage: string;
  image?: { name: string; entrypoint: string[] };
  resource_group?: string;
  environment?: { name: string };
  id_tokens?: Record<string, { aud: string }>;
  variables: Record<string, string>;
  before_script: string[];
  script: string[];
  artifacts?: { access?: string; public?: boolean; paths: string[]; reports?: { terraform?: string } };
  cache?: { key: { files: string[] }; paths: string[] }[];
};

describe("GitLab CI schema", () => {
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
  const validate = ajv.compile(JSON.parse(readFileSync(gitlabCiSchemaFile, "utf8")) as object);
  const errors = () => ajv.errorsText(validate.errors, { separator: "\n" });

  test.each([".gitlab-ci.yml", "terraform/stacks.gitlab-ci.yml"])("%s is valid", (file) => {
    // GIVEN the pipeline file as committed
    const pipeline = parseCiYaml(readFileSync(join(repoRoot, file), "utf8"));
    // WHEN it is validated against GitLab's own CI schema
    const valid = validate(pipeline);
    // THEN there is no error
    expect(valid ? "" : errors()).toBe("");
  });

  test("the validator does reject invalid jobs (it is not vacuous)", () => {
    // GIVEN a visible job with a when GitLab does not know, and a plan artifact with an unknown access
    const pipeline = readFileSync(join(repoRoot, ".gitlab-ci.yml"), "utf8").replace(
      "typecheck:\n  extends: .node\n",
      "typecheck:\n  extends: .node\n  when: later\n",
    );
    const stacks = readFileSync(join(repoRoot, "terraform/stacks.gitlab-ci.yml"), "utf8").replace(
      "access: developer",
      "access: everyone",
    );
    // WHEN they are validated
    // THEN both fail
    expect(validate(parseCiYaml(pipeline))).toBe(false);
    expect(validate(parseCiYaml(stacks))).toBe(false);
  });
});

describe("the pipeline as gitlab-ci-local loads it", () => {
  let dir: string;
  beforeAll(() => {
    dir = copyRepository();
  }, 60_000);
  afterAll(() => removeRepository(dir));

  test("the credentials component it includes exists", () => {
    // GIVEN the include in .gitlab-ci.yml
    // THEN the component file is in the repository (another part of the project writes it)
    expect(existsSync(join(repoRoot, "templates", "aws-credentials.yml"))).toBe(true);
  });

  test("merge request: validate jobs and one plan per stack, no deploy", () => {
    // GIVEN a merge-request pipeline
    // WHEN gitlab-ci-local evaluates the rules
    const jobs = listJobs(dir, MR);
    // THEN the validate jobs run, each stack is planned, and nothing is deployed
    expect(jobs.map((j) => j.name).sort()).toEqual(
      [...VALIDATE_JOBS, ...STACKS.map((s) => `plan:${s}`)].sort(),
    );
    for (const stack of STACKS) {
      expect(jobs.find((j) => j.name === `plan:${stack}`)).toMatchObject({
        stage: "plan",
        when: "on_success",
      });
    }
  }, 60_000);

  test("default branch: plans, and a manual deploy per stack that needs that stack's plan", () => {
    // GIVEN a push pipeline on the default branch
    // WHEN gitlab-ci-local evaluates the rules
    const jobs = listJobs(dir, DEFAULT_BRANCH);
    // THEN each stack has a plan and a manual deploy needing the plan's artifacts
    expect(jobs.map((j) => j.name).sort()).toEqual(
      [...VALIDATE_JOBS, ...STACKS.flatMap((s) => [`plan:${s}`, `deploy:${s}`])].sort(),
    );
    for (const stack of STACKS) {
      const deploy = jobs.find((j) => j.name === `deploy:${stack}`);
      expect(deploy).toMatchObject({ stage: "deploy", when: "manual" });
      expect(deploy?.needs).toEqual([expect.objectContaining({ job: `plan:${stack}`, artifacts: true })]);
    }
  }, 60_000);

  test("another branch without a merge request: validate only, never plan or deploy", () => {
    // GIVEN a push pipeline on a feature branch
    // WHEN gitlab-ci-local evaluates the rules
    const jobs = listJobs(dir, FEATURE_BRANCH);
    // THEN only the validate jobs run
    expect(jobs.map((j) => j.name).sort()).toEqual([...VALIDATE_JOBS].sort());
  }, 60_000);

  test("plan and deploy jobs: resource group, private artifacts with the widget report, credentials, state", () => {
    // GIVEN the pipeline with includes, extends and !reference expanded
    const preview = previewPipeline(dir, DEFAULT_BRANCH) as Record<string, PreviewJob>;
    for (const stack of STACKS) {
      const plan = preview[`plan:${stack}`];
      const deploy = preview[`deploy:${stack}`];
      // THEN the deploy of a stack is serialised on its own resource group
      expect(deploy.resource_group).toBe(stack);
      expect(plan.resource_group).toBeUndefined();
      // AND the plan keeps the plan file, the readable plan and the lock file, for developers only,
      // and reports plan.json to the merge-request widget
      expect(plan.artifacts?.access).toBe("developer");
      expect(plan.artifacts?.reports?.terraform).toBe(`terraform/stacks/${stack}/plan.json`);
      expect(plan.artifacts?.paths).toEqual(
        expect.arrayContaining([
          `terraform/stacks/${stack}/plan.tfplan`,
          `terraform/stacks/${stack}/plan.txt`,
          `terraform/stacks/${stack}/.terraform.lock.hcl`,
        ]),
      );
      expect(plan.script.join("\n")).toMatch(/terraform plan .*-out=plan\.tfplan/);
      expect(plan.script.join("\n")).toMatch(/plan-summary\.sh" > plan\.json/);
      expect(deploy.script.join("\n")).toMatch(/terraform apply -input=false plan\.tfplan/);
      for (const job of [plan, deploy]) {
        // AND both get AWS credentials from the component: an ID token, web-identity mode, the
        // stack's role variable, run before Terraform; and GitLab-managed state credentials
        expect(job.id_tokens).toHaveProperty("AWS_ID_TOKEN");
        expect(job.variables).toMatchObject({
          AWS_CREDENTIALS_MODE: "web-identity",
          AWS_CREDENTIALS_REGION: "eu-west-1",
          TF_HTTP_USERNAME: "gitlab-ci-token",
          TF_HTTP_PASSWORD: "$CI_JOB_TOKEN",
          TF_ROOT: `terraform/stacks/${stack}`,
        });
        const before = job.before_script.join("\n");
        expect(before).toMatch(/aws-credentials/);
        expect(before.indexOf("AWS_ROLE_ARN")).toBeLessThan(before.indexOf("terraform init"));
        expect(job.image).toEqual({ name: "$TERRAFORM_IMAGE", entrypoint: [""] });
      }
      expect(plan.variables.AWS_CREDENTIALS_ROLE_ARN).toBe(
        `$GITLAB_OIDC_PLAN_ROLE_ARN_${stack.toUpperCase()}`,
      );
      expect(deploy.variables.AWS_CREDENTIALS_ROLE_ARN).toBe(
        `$GITLAB_OIDC_DEPLOY_ROLE_ARN_${stack.toUpperCase()}`,
      );
    }
    // AND the install is cached on the lockfile
    expect(preview["typecheck"].cache).toEqual([
      expect.objectContaining({ key: { files: ["package-lock.json"] }, paths: [".npm/"] }),
    ]);
  }, 60_000);

  test("a plan job refuses a stack whose state is a local file, with a clear message", () => {
    // GIVEN the example config (state: local), in a merge-request pipeline
    // WHEN plan:production runs (in the shell; it stops before any credential or Terraform step)
    const result = runGitlabCiLocal(dir, ["plan:production", "--force-shell-executor"], MR);
    // THEN it fails and tells the team to switch to GitLab-managed state
    expect(result.status).not.toBe(0);
    expect(result.output).toMatch(/stack production keeps its Terraform state in a local file/);
    expect(result.output).toMatch(/docs\/pipeline\.md/);
    expect(result.output).not.toMatch(/Initializing the backend/);
  }, 120_000);
});

describe("a plan job with GitLab-managed state but no role variable", () => {
  let dir: string;
  beforeAll(() => {
    // GIVEN a checkout whose config uses GitLab-managed state, synthesized and committed
    dir = copyRepository((d) => {
      const file = join(d, "gitlab-oidc.yaml");
      const text = readFileSync(file, "utf8");
      writeFileSync(
        file,
        text.replace(
          /^ {2}type: local.*$/m,
          "  type: gitlab\n  url: https://gitlab.example.com\n  projectId: 42",
        ),
      );
      execFileSync("sh", ["-c", "node scripts/build.mjs && node dist/main.js"], { cwd: d, stdio: "pipe" });
    });
  }, 120_000);
  afterAll(() => removeRepository(dir));

  test("fails naming the CI/CD variable to set", () => {
    // GIVEN the committed HCL uses the http backend
    expect(readFileSync(join(dir, "terraform/stacks/staging/cdk.tf"), "utf8")).toMatch(
      /backend "http"[\s\S]*api\/v4\/projects\/42\/terraform\/state\/staging/,
    );
    // WHEN plan:staging runs without GITLAB_OIDC_PLAN_ROLE_ARN_STAGING
    const result = runGitlabCiLocal(dir, ["plan:staging", "--force-shell-executor"], MR);
    // THEN it fails before any credential or Terraform step, naming the variable
    expect(result.status).not.toBe(0);
    expect(result.output).toMatch(/CI\/CD variable GITLAB_OIDC_PLAN_ROLE_ARN_STAGING is not set/);
    expect(result.output).not.toMatch(/aws-credentials: web-identity/);
  }, 120_000);
});

describe("validate jobs, run for real in the shell (node_modules reused instead of npm ci)", () => {
  test("typecheck, lint, format and committed-hcl-current pass on a clean checkout", () => {
    // GIVEN a clean checkout of the working tree
    const dir = copyRepository();
    try {
      // WHEN the validate jobs run (unit-tests is left out: it would run this test again)
      const result = runGitlabCiLocal(
        dir,
        ["typecheck", "lint", "format", "committed-hcl-current", "--force-shell-executor"],
        { ...MR, REUSE_NODE_MODULES: "true" },
      );
      // THEN they all pass, without npm ci, and terraform/ is current
      expect(result.status === 0 ? "" : result.output).toBe("");
      expect(result.output).toMatch(/REUSE_NODE_MODULES=true: using the existing node_modules/);
      expect(result.output).toMatch(/terraform\/ is current with gitlab-oidc\.yaml/);
    } finally {
      removeRepository(dir);
    }
  }, 600_000);

  test("committed-hcl-current fails when the config changed but terraform/ was not regenerated", () => {
    // GIVEN a checkout where a role's description changed in the config only
    const dir = copyRepository((d) => {
      const file = join(d, "gitlab-oidc.yaml");
      writeFileSync(
        file,
        readFileSync(file, "utf8").replace("Deploys the web app from main", "Deploys from main"),
      );
    });
    try {
      // WHEN committed-hcl-current runs
      const result = runGitlabCiLocal(dir, ["committed-hcl-current", "--force-shell-executor"], {
        ...MR,
        REUSE_NODE_MODULES: "true",
      });
      // THEN it fails, shows the difference and says what to do
      expect(result.status).not.toBe(0);
      expect(result.output).toMatch(/Deploys from main/);
      expect(result.output).toMatch(/run npm run synth and commit terraform\//);
    } finally {
      removeRepository(dir);
    }
  }, 300_000);

  test("committed-hcl-current fails on a generated file that is not committed", () => {
    // GIVEN a checkout where the staging stack's HCL is in the working tree but was never committed
    const dir = copyRepository();
    const git = (...args: string[]) =>
      execFileSync("git", ["-c", "user.email=t@example.com", "-c", "user.name=t", ...args], {
        cwd: dir,
        stdio: "pipe",
      });
    git("rm", "-q", "--cached", "terraform/stacks/staging/cdk.tf");
    git("commit", "-q", "-m", "forget the staging HCL");
    try {
      // WHEN committed-hcl-current runs
      const result = runGitlabCiLocal(dir, ["committed-hcl-current", "--force-shell-executor"], {
        ...MR,
        REUSE_NODE_MODULES: "true",
      });
      // THEN it fails and names the file
      expect(result.status).not.toBe(0);
      expect(result.output).toMatch(/terraform\/stacks\/staging\/cdk\.tf/);
      expect(result.output).toMatch(/not committed/);
    } finally {
      removeRepository(dir);
    }
  }, 300_000);
});
