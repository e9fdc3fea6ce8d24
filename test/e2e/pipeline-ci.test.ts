/**
 * This repository's own pipeline (.gitlab-ci.yml + the generated terraform/stacks.gitlab-ci.yml +
 * templates/aws-credentials.yml) as GitLab and gitlab-ci-local see it: valid for GitLab; the right jobs
 * in default-branch, merge-request, fork merge-request, scheduled, web and tag pipelines, with the
 * example config (state: local: validate jobs only, so the example is green) and with GitLab-managed
 * state; plan and deploy jobs whose credentials, images and endpoints no pipeline variable changes;
 * a deploy job that refuses a commit that is not the default branch's head; validate jobs that really
 * pass on a clean checkout of the working tree.
 */
import Ajv from "ajv";
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import { DEPLOY_AUDIENCE } from "../../src/pipeline/stack-jobs";
import { GitHttpServer } from "../support/git-http-server";
import {
  copyRepository,
  gitlabCiSchemaFile,
  listJobs,
  parseCiYaml,
  previewPipeline,
  removeRepository,
  repoRoot,
  runGitlabCiLocal,
  runGitlabCiLocalAsync,
  type ListedJob,
} from "../support/pipeline-repo";

const VALIDATE_JOBS = ["typecheck", "lint", "format", "unit-tests", "committed-hcl-current"];
const STACKS = ["production", "staging"];
const PLANS = STACKS.map((s) => `plan:${s}`);
const DEPLOYS = STACKS.map((s) => `deploy:${s}`);
const PROJECT_ID = "42";
const MR = {
  CI_PIPELINE_SOURCE: "merge_request_event",
  CI_MERGE_REQUEST_IID: "7",
  CI_MERGE_REQUEST_PROJECT_ID: PROJECT_ID,
  CI_MERGE_REQUEST_SOURCE_PROJECT_ID: PROJECT_ID,
  CI_COMMIT_BRANCH: "",
  CI_DEFAULT_BRANCH: "main",
};
/** A merge request from a fork; also what "Run pipeline in parent project" runs for it. */
const FORK_MR = { ...MR, CI_MERGE_REQUEST_SOURCE_PROJECT_ID: "4711" };
const DEFAULT_BRANCH = { CI_PIPELINE_SOURCE: "push", CI_COMMIT_BRANCH: "main", CI_DEFAULT_BRANCH: "main" };
const SCHEDULED = { ...DEFAULT_BRANCH, CI_PIPELINE_SOURCE: "schedule" };
const WEB = { ...DEFAULT_BRANCH, CI_PIPELINE_SOURCE: "web" };
const TAG = {
  CI_PIPELINE_SOURCE: "push",
  CI_COMMIT_BRANCH: "",
  CI_COMMIT_TAG: "v1.2.3",
  CI_DEFAULT_BRANCH: "main",
};
const FEATURE_BRANCH = {
  CI_PIPELINE_SOURCE: "push",
  CI_COMMIT_BRANCH: "feature/x",
  CI_DEFAULT_BRANCH: "main",
};
const OPEN_MR = { CI_OPEN_MERGE_REQUESTS: "acme/platform/gitlab-oidc-aws!7" };
const FAKE_ID_TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ0ZXN0In0.c2lnbmF0dXJl";
const PLAN_ROLE = "arn:aws:iam::111111111111:role/gitlab/platform-planner";
const DEPLOYER_ROLE = "arn:aws:iam::111111111111:role/gitlab/platform-deployer";
const DEPLOY_ROLE = "arn:aws:iam::111111111111:role/platform-deploy";

type PreviewJob = {
  stage: string;
  image?: string | { name: string; entrypoint?: string[] };
  resource_group?: string;
  environment?: { name: string; deployment_tier?: string };
  id_tokens?: Record<string, { aud: string }>;
  variables: Record<string, string>;
  before_script: string[];
  script: string[];
  artifacts?: { access?: string; public?: boolean; paths: string[]; reports?: { terraform?: string } };
  cache?: { key: { files: string[] }; paths: string[] }[];
};

/**
 * A copy whose config keeps state in GitLab (and production has a deployRoleArn), synthesized;
 * `prepare` may add files before the commit.
 */
function copyWithGitLabState(prepare?: (dir: string) => void): string {
  return copyRepository((d) => {
    const file = join(d, "gitlab-oidc.yaml");
    writeFileSync(
      file,
      readFileSync(file, "utf8")
        .replace(
          /^ {2}type: local.*$/m,
          `  type: gitlab\n  url: https://gitlab.example.com\n  projectId: ${PROJECT_ID}`,
        )
        .replace("    provider: create\n", `    provider: create\n    deployRoleArn: ${DEPLOY_ROLE}\n`),
    );
    execFileSync("sh", ["-c", "node scripts/build.mjs && node dist/main.js"], { cwd: d, stdio: "pipe" });
    prepare?.(d);
  });
}

/**
 * Whether GitLab creates the pipeline at all: gitlab-ci-local reads workflow:rules only for their
 * variables, so they are evaluated with its rule engine as the rules of a probe job.
 */
function workflowRuns(dir: string, variables: Record<string, string>): boolean {
  const pipeline = parseCiYaml(readFileSync(join(dir, ".gitlab-ci.yml"), "utf8")) as {
    workflow: { rules: unknown[] };
  };
  const probe = join(dir, "..", `${dir.split("/").pop()}-workflow`);
  mkdirSync(probe, { recursive: true });
  writeFileSync(
    join(probe, ".gitlab-ci.yml"),
    stringify({ probe: { script: ["true"], rules: pipeline.workflow.rules } }),
  );
  try {
    execFileSync("git", ["init", "-q", "-b", "main"], { cwd: probe });
    execFileSync(
      "git",
      ["remote", "add", "origin", "git@gitlab.example.com:acme/platform/gitlab-oidc-aws.git"],
      {
        cwd: probe,
      },
    );
    return listJobs(probe, variables).some((j) => j.name === "probe");
  } finally {
    rmSync(probe, { recursive: true, force: true });
    rmSync(`${probe}-gitlab-ci-local`, { recursive: true, force: true });
  }
}

/** The jobs GitLab would run: none when workflow:rules drop the pipeline. */
function pipelineJobs(dir: string, variables: Record<string, string>): ListedJob[] {
  return workflowRuns(dir, variables) ? listJobs(dir, variables) : [];
}

const names = (jobs: ListedJob[]) => jobs.map((j) => j.name).sort();
/** Jobs another part of the project adds (the component's release job on semver tags). */
const OTHER_JOBS = ["release"];
const without = (jobs: string[], others: string[]) => jobs.filter((j) => !others.includes(j));

describe("GitLab CI schema", () => {
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
  const validate = ajv.compile(JSON.parse(readFileSync(gitlabCiSchemaFile, "utf8")) as object);
  const errors = () => ajv.errorsText(validate.errors, { separator: "\n" });
  let gitlabState: string;
  beforeAll(() => {
    gitlabState = copyWithGitLabState();
  }, 120_000);
  afterAll(() => removeRepository(gitlabState));

  // The generated jobs as upstream's example commits them (the team's own are checked by test/team/).
  test.each([".gitlab-ci.yml", "examples/basic/terraform/stacks.gitlab-ci.yml"])(
    "%s is valid as committed",
    (file) => {
      // GIVEN the pipeline file as committed
      const pipeline = parseCiYaml(readFileSync(join(repoRoot, file), "utf8"));
      // WHEN it is validated against GitLab's own CI schema
      // THEN there is no error
      expect(validate(pipeline) ? "" : errors()).toBe("");
    },
  );

  test("the generated jobs for GitLab-managed state are valid, and the validator rejects a broken one", () => {
    // GIVEN the jobs generated for a config with GitLab-managed state
    const text = readFileSync(join(gitlabState, "terraform/stacks.gitlab-ci.yml"), "utf8");
    // THEN they are valid
    expect(validate(parseCiYaml(text)) ? "" : errors()).toBe("");
    // AND the validator is not vacuous: an unknown artifacts:access and an unknown when are refused
    expect(validate(parseCiYaml(text.replace("access: developer", "access: everyone")))).toBe(false);
    const pipeline = readFileSync(join(repoRoot, ".gitlab-ci.yml"), "utf8").replace(
      "typecheck:\n  extends: .node\n",
      "typecheck:\n  extends: .node\n  when: later\n",
    );
    expect(validate(parseCiYaml(pipeline))).toBe(false);
  });
});

describe("the example config (state: local): green by default", () => {
  let dir: string;
  beforeAll(() => {
    dir = copyRepository();
  }, 60_000);
  afterAll(() => removeRepository(dir));

  test("the credentials component it includes exists", () => {
    expect(existsSync(join(repoRoot, "templates", "aws-credentials.yml"))).toBe(true);
  });

  test.each([
    ["merge request", MR],
    ["default branch", DEFAULT_BRANCH],
    ["feature branch", FEATURE_BRANCH],
    ["scheduled", SCHEDULED],
    ["tag", TAG],
  ])(
    "%s pipeline: the validate jobs only, no plan or deploy that could only fail",
    (_, variables) => {
      // GIVEN the committed config, whose state is a local file
      // WHEN gitlab-ci-local evaluates the rules
      const jobs = names(pipelineJobs(dir, variables));
      // THEN only the validate jobs run (plus the component's release job on a tag)
      expect(without(jobs, OTHER_JOBS)).toEqual([...VALIDATE_JOBS].sort());
    },
    60_000,
  );
});

describe("with GitLab-managed state: which pipeline gets which jobs", () => {
  let dir: string;
  beforeAll(() => {
    dir = copyWithGitLabState();
  }, 120_000);
  afterAll(() => removeRepository(dir));

  test("default branch (push): validate, a plan per stack, and a manual deploy per stack that needs its plan", () => {
    const jobs = pipelineJobs(dir, DEFAULT_BRANCH);
    expect(names(jobs)).toEqual([...VALIDATE_JOBS, ...PLANS, ...DEPLOYS].sort());
    for (const stack of STACKS) {
      const deploy = jobs.find((j) => j.name === `deploy:${stack}`);
      // manual, and allow_failure: a waiting deploy does not leave the pipeline blocked
      expect(deploy).toMatchObject({ stage: "deploy", when: "manual", allow_failure: true });
      expect(deploy?.needs).toEqual([expect.objectContaining({ job: `plan:${stack}`, artifacts: true })]);
    }
  }, 60_000);

  test("default branch that is also the source branch of an open merge request: still its full pipeline", () => {
    const jobs = pipelineJobs(dir, { ...DEFAULT_BRANCH, ...OPEN_MR });
    expect(names(jobs)).toEqual([...VALIDATE_JOBS, ...PLANS, ...DEPLOYS].sort());
  }, 60_000);

  test("merge request from a branch of this project: validate and plans, never a deploy", () => {
    const jobs = pipelineJobs(dir, MR);
    expect(names(jobs)).toEqual([...VALIDATE_JOBS, ...PLANS].sort());
  }, 60_000);

  test("merge request from a fork (or run in the parent project for it): no plan", () => {
    const jobs = pipelineJobs(dir, FORK_MR);
    expect(names(jobs)).toEqual([...VALIDATE_JOBS].sort());
  }, 60_000);

  test.each([
    ["scheduled", SCHEDULED],
    ["web", WEB],
  ])(
    "%s pipeline on the default branch: plans (drift), no deploy (the deployer trusts push only)",
    (_, vars) => {
      const jobs = pipelineJobs(dir, vars);
      expect(names(jobs)).toEqual([...VALIDATE_JOBS, ...PLANS].sort());
    },
    60_000,
  );

  test("tag pipeline: no plan or deploy", () => {
    const jobs = names(pipelineJobs(dir, TAG));
    expect(without(jobs, OTHER_JOBS)).toEqual([...VALIDATE_JOBS].sort());
  }, 60_000);

  test("a push to a branch with an open merge request: no branch pipeline (the MR pipeline runs)", () => {
    expect(pipelineJobs(dir, { ...FEATURE_BRANCH, ...OPEN_MR })).toEqual([]);
    // AND without an open merge request the branch gets the validate jobs
    expect(names(pipelineJobs(dir, FEATURE_BRANCH))).toEqual([...VALIDATE_JOBS].sort());
  }, 60_000);

  test("a scheduled or API pipeline on a branch with an open merge request still runs", () => {
    for (const source of ["schedule", "api"]) {
      const jobs = pipelineJobs(dir, { ...FEATURE_BRANCH, ...OPEN_MR, CI_PIPELINE_SOURCE: source });
      expect(names(jobs)).toEqual([...VALIDATE_JOBS].sort());
    }
  }, 60_000);
});

describe("with GitLab-managed state: what no pipeline variable can change", () => {
  let dir: string;
  let preview: Record<string, PreviewJob>;
  /** Pipeline variables (they outrank every variable in the YAML) trying to redirect the jobs. */
  const HOSTILE = {
    TERRAFORM_IMAGE: "registry.example.com/evil/terraform:latest",
    NODE_IMAGE: "registry.example.com/evil/node:latest",
    CI_SERVER_URL: DEPLOY_AUDIENCE,
    AWS_CREDENTIALS_STS_ENDPOINT: "http://127.0.0.1:9/sts",
    AWS_ENDPOINT_URL_STS: "http://127.0.0.1:9/sts",
    AWS_ENDPOINT_URL: "http://127.0.0.1:9/all",
  };
  beforeAll(() => {
    dir = copyWithGitLabState();
    preview = previewPipeline(dir, { ...DEFAULT_BRANCH, ...HOSTILE }) as Record<string, PreviewJob>;
  }, 120_000);
  afterAll(() => removeRepository(dir));

  test("every image is written out and pinned by digest: an image variable reaches no job", () => {
    const jobs = Object.entries(preview).filter(([name, job]) => !name.startsWith(".") && job?.script);
    expect(jobs.length).toBeGreaterThan(VALIDATE_JOBS.length);
    for (const [name, job] of jobs) {
      const image = typeof job.image === "string" ? job.image : job.image?.name;
      if (name === "release") {
        // The component's release job holds no AWS credentials; its image is pinned to a glab version.
        expect(image).toMatch(
          /^registry\.gitlab\.com\/gitlab-org\/cli:v\d+\.\d+\.\d+(@sha256:[0-9a-f]{64})?$/,
        );
        continue;
      }
      expect({ name, image }).toEqual({ name, image: expect.stringMatching(/^[^$]+@sha256:[0-9a-f]{64}$/) });
    }
    expect(JSON.stringify(preview)).not.toContain("evil");
  });

  test("token audiences are literals: the deploy audience only on deploy jobs, CI_SERVER_URL changes none", () => {
    for (const stack of STACKS) {
      expect(preview[`plan:${stack}`]!.id_tokens).toEqual({ AWS_ID_TOKEN: { aud: "https://gitlab.com" } });
      expect(preview[`deploy:${stack}`]!.id_tokens).toEqual({ AWS_ID_TOKEN: { aud: DEPLOY_AUDIENCE } });
    }
  });

  test("plan and deploy jobs: resource group, private artifacts with the widget report, profiles, state", () => {
    for (const stack of STACKS) {
      const plan = preview[`plan:${stack}`]!;
      const deploy = preview[`deploy:${stack}`]!;
      expect(deploy.resource_group).toBe(stack);
      expect(plan.resource_group).toBeUndefined();
      expect(deploy.environment).toEqual({ name: `aws/${stack}`, deployment_tier: "production" });
      expect(plan.artifacts?.access).toBe("developer");
      expect(plan.artifacts?.reports?.terraform).toBe(`terraform/stacks/${stack}/plan.json`);
      expect(plan.script.join("\n")).toMatch(/terraform plan .*-out=plan\.tfplan/);
      expect(plan.script.join("\n")).toMatch(/plan-summary\.sh" > plan\.json/);
      expect(plan.script.join("\n")).not.toMatch(/apk|apt-get/);
      expect(deploy.script.join("\n")).toMatch(/terraform apply -input=false plan\.tfplan/);
      for (const job of [plan, deploy]) {
        expect(job.variables).toMatchObject({
          AWS_CREDENTIALS_MODE: "profiles",
          AWS_CREDENTIALS_REGION: "eu-west-1",
          TF_HTTP_USERNAME: "gitlab-ci-token",
          TF_HTTP_PASSWORD: "$CI_JOB_TOKEN",
          TF_ROOT: `terraform/stacks/${stack}`,
        });
        // AND the component's script runs before terraform init, which reads only the committed lock file
        const steps = job.before_script;
        const credentials = steps.findIndex((step) => step.includes("_awscred_main"));
        const init = steps.indexOf("terraform init -input=false -lockfile=readonly");
        expect(credentials).toBeGreaterThan(-1);
        expect(init).toBeGreaterThan(credentials);
      }
      // AND the deploy job drops inherited endpoints and checks the head before anything else
      const steps = deploy.before_script;
      expect(steps[0]).toBe(". ./src/pipeline/deploy-env.sh");
      expect(steps[1]).toBe("sh src/pipeline/require-head.sh");
    }
  });
});

describe("with GitLab-managed state: jobs run in the shell up to Terraform (a stand-in records it)", () => {
  let dir: string;
  let remote: GitHttpServer;
  let head: string;
  const TOKEN = "job-token-for-tests";
  const stub = () => join(dir, "..", `${dir.split("/").pop()}-bin`);
  const log = () => join(stub(), "terraform.log");

  beforeAll(async () => {
    // GIVEN a checkout with GitLab-managed state, committed provider lock files, the project's
    // repository served on 127.0.0.1 with the job token, and a terraform stand-in that records its
    // arguments, environment and AWS config file
    dir = copyWithGitLabState((d) => {
      for (const stack of STACKS)
        writeFileSync(join(d, "terraform/stacks", stack, ".terraform.lock.hcl"), "# test lock file\n");
    });
    head = execFileSync("git", ["rev-parse", "HEAD"], { cwd: dir, encoding: "utf8" }).trim();
    const srv = join(dir, "..", `${dir.split("/").pop()}-srv`);
    mkdirSync(join(srv, "acme", "platform"), { recursive: true });
    execFileSync("git", ["clone", "-q", "--bare", dir, join(srv, "acme/platform/gitlab-oidc-aws.git")]);
    remote = await GitHttpServer.start(srv, { jobToken: TOKEN });
    mkdirSync(stub(), { recursive: true });
    writeFileSync(
      join(stub(), "terraform"),
      [
        "#!/bin/sh",
        // `show -json` prints a plan with one create, for the summary the plan job writes.
        `case "$1 $2" in "show -json") echo '{"format_version":"1.2","resource_changes":[{"change":{"actions":["create"]}}]}' ;; esac`,
        `{ echo "terraform $*"; env | grep -E '^(AWS_|TF_)' | sort`,
        '  if [ -n "${AWS_CONFIG_FILE:-}" ] && [ -f "$AWS_CONFIG_FILE" ]; then echo "--- AWS_CONFIG_FILE"; cat "$AWS_CONFIG_FILE"; fi',
        `} >> "${log()}"`,
        "",
      ].join("\n"),
    );
    chmodSync(join(stub(), "terraform"), 0o755);
  }, 180_000);
  afterAll(async () => {
    await remote.close();
    removeRepository(dir);
    rmSync(stub(), { recursive: true, force: true });
    rmSync(join(dir, "..", `${dir.split("/").pop()}-srv`), { recursive: true, force: true });
  });

  const jobVariables = (extra: Record<string, string>) => ({
    PATH: `${stub()}:${process.env.PATH ?? ""}`,
    AWS_ID_TOKEN: FAKE_ID_TOKEN,
    CI_JOB_TOKEN: TOKEN,
    CI_REPOSITORY_URL: remote.repositoryUrl("acme/platform/gitlab-oidc-aws", TOKEN),
    CI_COMMIT_SHA: head,
    GITLAB_OIDC_PLAN_ROLE_ARN_PRODUCTION: PLAN_ROLE,
    GITLAB_OIDC_DEPLOY_ROLE_ARN_PRODUCTION: DEPLOYER_ROLE,
    ...extra,
  });
  const terraformLog = () => (existsSync(log()) ? readFileSync(log(), "utf8") : "");

  test("the plan job's AWS config reaches the planner only, never the deploy role", async () => {
    rmSync(log(), { force: true });
    // WHEN plan:production runs in a merge-request pipeline
    const result = await runGitlabCiLocalAsync(
      dir,
      ["plan:production", "--force-shell-executor"],
      jobVariables(MR),
    );
    // THEN Terraform ran with the component's profiles: AWS_PROFILE is the plan profile, whose role
    // is the planner, from the job's token; the deployer and deployRoleArn are nowhere
    const seen = terraformLog();
    expect(seen ? "" : result.output).toBe("");
    expect(seen).toMatch(/^terraform init -input=false -lockfile=readonly$/m);
    expect(seen).toMatch(/^AWS_PROFILE=gitlab-oidc-plan$/m);
    expect(seen).toMatch(/--- AWS_CONFIG_FILE/);
    expect(seen).toContain(`role_arn = ${PLAN_ROLE}`);
    expect(seen).toMatch(/web_identity_token_file = /);
    expect(seen).not.toContain(DEPLOY_ROLE);
    expect(seen).not.toContain(DEPLOYER_ROLE);
    expect(seen).not.toMatch(/source_profile/);
    // AND the job went through: the widget summary, computed without jq
    expect(result.output).toContain(
      'plan for production (create, update, delete; a replace counts as one create and one delete): {"create":1,"update":0,"delete":0}',
    );
  }, 180_000);

  test("the deploy job chains deployer → deployRoleArn and ignores endpoints set as pipeline variables", async () => {
    rmSync(log(), { force: true });
    // WHEN deploy:production runs at the head of main with pipeline variables pointing STS elsewhere
    const result = await runGitlabCiLocalAsync(
      dir,
      ["deploy:production", "--force-shell-executor"],
      jobVariables({
        ...DEFAULT_BRANCH,
        AWS_CREDENTIALS_STS_ENDPOINT: "http://127.0.0.1:9/sts",
        AWS_ENDPOINT_URL_STS: "http://127.0.0.1:9/sts",
        AWS_ENDPOINT_URL: "http://127.0.0.1:9/all",
      }),
    );
    // THEN the variables were dropped, the head check passed, and Terraform applied with the chain
    expect(result.output).toMatch(/deploy-env: ignoring .*AWS_ENDPOINT_URL_STS/);
    expect(result.output).toContain(`require-head: ${head} is the head of main`);
    const seen = terraformLog();
    expect(seen ? "" : result.output).toBe("");
    expect(seen).toMatch(/^terraform apply -input=false plan\.tfplan$/m);
    expect(seen).toMatch(/^AWS_PROFILE=gitlab-oidc-deploy$/m);
    expect(seen).toContain(`role_arn = ${DEPLOYER_ROLE}`);
    expect(seen).toContain(`role_arn = ${DEPLOY_ROLE}`);
    expect(seen).toMatch(/source_profile = gitlab-oidc-deployer/);
    expect(seen).not.toContain("127.0.0.1:9");
    expect(seen).not.toMatch(/^AWS_ENDPOINT_URL/m);
  }, 180_000);

  test("the deploy job refuses a commit that is no longer the head of the default branch", async () => {
    rmSync(log(), { force: true });
    // GIVEN a newer commit merged into main after this pipeline's
    const srvRepo = join(dir, "..", `${dir.split("/").pop()}-srv`, "acme/platform/gitlab-oidc-aws.git");
    const newer = execFileSync(
      "git",
      [
        "-c",
        "user.email=t@example.com",
        "-c",
        "user.name=t",
        "commit-tree",
        "-p",
        head,
        "-m",
        "B",
        `${head}^{tree}`,
      ],
      { cwd: srvRepo, encoding: "utf8" },
    ).trim();
    execFileSync("git", ["update-ref", "refs/heads/main", newer], { cwd: srvRepo });
    try {
      // WHEN the older pipeline's deploy job is played
      const result = await runGitlabCiLocalAsync(
        dir,
        ["deploy:production", "--force-shell-executor"],
        jobVariables(DEFAULT_BRANCH),
      );
      // THEN it fails before any credential or Terraform step, naming the head (gitlab-ci-local exits 0:
      // the manual deploy job may fail without failing the pipeline)
      expect(result.output).toContain(`is no longer the head of main (now ${newer})`);
      expect(terraformLog()).toBe("");
    } finally {
      execFileSync("git", ["update-ref", "refs/heads/main", head], { cwd: srvRepo });
    }
  }, 180_000);

  test("a plan job fails clearly without the committed lock file", async () => {
    rmSync(log(), { force: true });
    rmSync(join(dir, "terraform/stacks/staging/.terraform.lock.hcl"));
    try {
      const result = await runGitlabCiLocalAsync(
        dir,
        ["plan:staging", "--force-shell-executor"],
        jobVariables({ ...MR, GITLAB_OIDC_PLAN_ROLE_ARN_STAGING: "arn:aws:iam::222222222222:role/planner" }),
      );
      expect(result.status).not.toBe(0);
      expect(result.output).toMatch(/terraform\/stacks\/staging\/\.terraform\.lock\.hcl is not committed/);
      expect(result.output).toMatch(/providers lock -platform=linux_amd64 -platform=darwin_arm64/);
      expect(terraformLog()).toBe("");
    } finally {
      writeFileSync(join(dir, "terraform/stacks/staging/.terraform.lock.hcl"), "# test lock file\n");
    }
  }, 180_000);

  test("a plan job without its role variable fails naming the CI/CD variable", async () => {
    rmSync(log(), { force: true });
    const result = await runGitlabCiLocalAsync(
      dir,
      ["plan:staging", "--force-shell-executor"],
      jobVariables(MR),
    );
    expect(result.status).not.toBe(0);
    expect(result.output).toMatch(
      /CI\/CD variable GITLAB_OIDC_PLAN_ROLE_ARN_STAGING is not set to an IAM role ARN/,
    );
    expect(terraformLog()).toBe("");
  }, 180_000);
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
