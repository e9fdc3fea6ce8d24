/**
 * This repository's own pipeline (.gitlab-ci.yml + the generated terraform/stacks.gitlab-ci.yml) as
 * GitLab and gitlab-ci-local see it: valid for GitLab's schema; the right jobs in default-branch,
 * merge-request, fork, scheduled, web and tag pipelines (with GitLab-managed state and with local
 * state); plan, deploy and release jobs that run only the sealed launcher, with every image pinned by
 * digest and every audience a literal.
 *
 * Fast by design: one small repository (the committed .gitlab-ci.yml and jobs generated from a fixture
 * config, nothing else), one gitlab-ci-local --preview for the whole pipeline, the rules of every
 * pipeline case evaluated from that preview (GitLab's rule semantics for the expressions this file
 * uses), and a few real gitlab-ci-local --list-json runs confirming the evaluation. What the jobs'
 * scripts do is played in test/e2e/sealed-jobs.test.ts; the validate jobs are npm scripts run as such.
 */
import Ajv from "ajv";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { deployAudience, renderStackJobs } from "../../src/pipeline/stack-jobs";
import type { SynthesizedStack } from "../../src/terraform/synthesized-stacks";
import { minimalConfig, parse, withDeployers } from "../support/configs";
import {
  gitlabCiSchemaFile,
  listJobs,
  parseCiYaml,
  previewPipeline,
  repoRoot,
} from "../support/pipeline-repo";

const VALIDATE_JOBS = ["typecheck", "lint", "format", "unit-tests", "committed-hcl-current"];
const STACKS = ["production", "staging"];
const PLANS = STACKS.map((s) => `plan:${s}`);
const DEPLOYS = STACKS.map((s) => `deploy:${s}`);
const RELEASE = ["release-on-default-branch", "release"];
const PROJECT_ID = "42";
type Vars = Record<string, string>;
const MR: Vars = {
  CI_PIPELINE_SOURCE: "merge_request_event",
  CI_MERGE_REQUEST_IID: "7",
  CI_MERGE_REQUEST_PROJECT_ID: PROJECT_ID,
  CI_MERGE_REQUEST_SOURCE_PROJECT_ID: PROJECT_ID,
  CI_COMMIT_BRANCH: "",
  CI_DEFAULT_BRANCH: "main",
};
/** A merge request from a fork; also what "Run pipeline in parent project" runs for it. */
const FORK_MR: Vars = { ...MR, CI_MERGE_REQUEST_SOURCE_PROJECT_ID: "4711" };
const DEFAULT_BRANCH: Vars = {
  CI_PIPELINE_SOURCE: "push",
  CI_COMMIT_BRANCH: "main",
  CI_DEFAULT_BRANCH: "main",
  CI_COMMIT_REF_PROTECTED: "true",
};
const SCHEDULED: Vars = { ...DEFAULT_BRANCH, CI_PIPELINE_SOURCE: "schedule" };
const WEB: Vars = { ...DEFAULT_BRANCH, CI_PIPELINE_SOURCE: "web" };
const TAG: Vars = {
  CI_PIPELINE_SOURCE: "push",
  CI_COMMIT_BRANCH: "",
  CI_COMMIT_TAG: "1.2.3",
  CI_DEFAULT_BRANCH: "main",
  CI_COMMIT_REF_PROTECTED: "true",
};
const UNPROTECTED_TAG: Vars = { ...TAG, CI_COMMIT_REF_PROTECTED: "false" };
const FEATURE_BRANCH: Vars = {
  CI_PIPELINE_SOURCE: "push",
  CI_COMMIT_BRANCH: "feature/x",
  CI_DEFAULT_BRANCH: "main",
  CI_COMMIT_REF_PROTECTED: "false",
};
const OPEN_MR: Vars = { CI_OPEN_MERGE_REQUESTS: "acme/platform/gitlab-oidc-aws!7" };
const TOKEN: Vars = { GITLAB_TOKEN: "glpat-test" };

type Rule = { if?: string; when?: string };
type PreviewJob = {
  stage?: string;
  image?: string | { name: string; entrypoint?: string[] };
  rules?: Rule[];
  when?: string;
  timeout?: string;
  resource_group?: string;
  environment?: { name: string; deployment_tier?: string };
  id_tokens?: Record<string, { aud: string }>;
  variables?: Record<string, string>;
  before_script?: string[];
  script?: string[];
  needs?: (string | { job: string; artifacts?: boolean })[];
  artifacts?: { access?: string; paths: string[]; reports?: { terraform?: string } };
};

/**
 * GitLab's rules:if for the expressions this pipeline uses: `$A`, `$A == "x"`, `$A == $B`, `!=`,
 * `&&` and `||` (&& binds tighter). An undefined or empty variable is false alone and null compared.
 */
function ruleMatches(expression: string, vars: Vars): boolean {
  const value = (term: string): string | null => {
    const t = term.trim();
    if (t.startsWith("$")) return vars[t.slice(1)] ?? null;
    if (/^".*"$/.test(t)) return t.slice(1, -1);
    throw new Error(`unsupported operand ${t} in ${expression}`);
  };
  const atom = (a: string): boolean => {
    const m = /^(.*?)\s*(==|!=)\s*(.*)$/.exec(a.trim());
    if (!m) return (value(a) ?? "") !== "";
    const equal = value(m[1]!) === value(m[3]!);
    return m[2] === "==" ? equal : !equal;
  };
  return expression.split("||").some((or) => or.split("&&").every(atom));
}

/** Whether a job (or the workflow) with these rules runs, and how: null when it does not. */
function evaluate(rules: Rule[] | undefined, vars: Vars): string | null {
  if (rules === undefined) return "on_success";
  const rule = rules.find((r) => r.if === undefined || ruleMatches(r.if, vars));
  if (rule === undefined || rule.when === "never") return null;
  return rule.when ?? "on_success";
}

describe("this repository's pipeline", () => {
  let dir: string;
  let localStateJobs: string;
  let gitlabStateJobs: string;
  let workflow: Rule[];
  let preview: Record<string, PreviewJob>;

  const stack = (name: string): SynthesizedStack => ({
    name,
    region: "eu-west-1",
    providerUrl: "https://gitlab.com",
    providerMode: "create",
    providerReference: "${aws_iam_openid_connect_provider.gitlab.arn}",
    roles: [],
  });

  beforeAll(() => {
    // GIVEN the committed .gitlab-ci.yml and the jobs the synth generates for a fixture config with
    // two accounts and GitLab-managed state, in a small repository whose origin is the project
    const raw = minimalConfig();
    const [account] = raw.accounts as Record<string, unknown>[];
    const accounts = [account, { ...account, name: "staging", accountId: "222222222222" }];
    const stacks = STACKS.map(stack);
    gitlabStateJobs = renderStackJobs(
      parse(
        withDeployers({
          ...raw,
          accounts,
          state: { type: "gitlab", url: "https://gitlab.com", projectId: 42 },
        }),
      ),
      stacks,
    );
    localStateJobs = renderStackJobs(parse({ ...raw, accounts }), stacks);
    dir = mkdtempSync(join(tmpdir(), "pipeline-ci-"));
    mkdirSync(join(dir, "terraform"));
    writeFileSync(join(dir, ".gitlab-ci.yml"), readFileSync(join(repoRoot, ".gitlab-ci.yml"), "utf8"));
    writeFileSync(join(dir, "terraform", "stacks.gitlab-ci.yml"), gitlabStateJobs);
    const git = (...args: string[]) =>
      execFileSync("git", ["-c", "user.email=t@example.com", "-c", "user.name=t", ...args], { cwd: dir });
    git("init", "-q", "-b", "main");
    git("add", "-A");
    git("commit", "-q", "-m", "pipeline");
    execFileSync(
      "git",
      ["remote", "add", "origin", "git@gitlab.example.com:acme/platform/gitlab-oidc-aws.git"],
      {
        cwd: dir,
      },
    );
    workflow = (
      parseCiYaml(readFileSync(join(dir, ".gitlab-ci.yml"), "utf8")) as { workflow: { rules: Rule[] } }
    ).workflow.rules;
    // WHEN gitlab-ci-local renders the whole pipeline once
    preview = previewPipeline(dir) as Record<string, PreviewJob>;
  }, 60_000);
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(`${dir}-gitlab-ci-local`, { recursive: true, force: true });
  });

  /** The jobs GitLab would create for a pipeline with these variables (none when workflow drops it). */
  function jobsFor(vars: Vars): string[] {
    if (evaluate(workflow, vars) === null) return [];
    return Object.entries(preview)
      .filter(([name, job]) => !name.startsWith(".") && job?.script && evaluate(job.rules, vars) !== null)
      .map(([name]) => name)
      .sort();
  }
  const visible = () => Object.entries(preview).filter(([name, job]) => !name.startsWith(".") && job?.script);

  describe("GitLab CI schema", () => {
    const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
    const validate = ajv.compile(JSON.parse(readFileSync(gitlabCiSchemaFile, "utf8")) as object);
    const errors = () => ajv.errorsText(validate.errors, { separator: "\n" });

    test("the committed .gitlab-ci.yml and the generated jobs (both state types) are valid", () => {
      for (const text of [
        readFileSync(join(repoRoot, ".gitlab-ci.yml"), "utf8"),
        gitlabStateJobs,
        localStateJobs,
      ])
        expect(validate(parseCiYaml(text)) ? "" : errors()).toBe("");
      // AND the validator is not vacuous
      expect(validate(parseCiYaml(gitlabStateJobs.replace("access: developer", "access: everyone")))).toBe(
        false,
      );
    });
  });

  describe("which pipeline gets which jobs (GitLab-managed state)", () => {
    test.each<[string, Vars, string[]]>([
      ["default branch (push)", DEFAULT_BRANCH, [...VALIDATE_JOBS, ...PLANS, ...DEPLOYS]],
      [
        "default branch with an open MR from it",
        { ...DEFAULT_BRANCH, ...OPEN_MR },
        [...VALIDATE_JOBS, ...PLANS, ...DEPLOYS],
      ],
      ["merge request from this project", MR, [...VALIDATE_JOBS, ...PLANS]],
      ["merge request from a fork (or run in the parent project for it)", FORK_MR, VALIDATE_JOBS],
      ["scheduled on the default branch: plans, no deploy", SCHEDULED, [...VALIDATE_JOBS, ...PLANS]],
      ["web (Run pipeline) on the default branch: plans, no deploy", WEB, [...VALIDATE_JOBS, ...PLANS]],
      ["protected tag: the release and its check, no plan or deploy", TAG, [...VALIDATE_JOBS, ...RELEASE]],
      ["unprotected tag: nothing is published", UNPROTECTED_TAG, VALIDATE_JOBS],
      ["a push to a branch with an open MR: no branch pipeline", { ...FEATURE_BRANCH, ...OPEN_MR }, []],
      ["a feature branch without an MR", FEATURE_BRANCH, VALIDATE_JOBS],
      [
        "a scheduled pipeline on a branch with an open MR",
        { ...FEATURE_BRANCH, ...OPEN_MR, CI_PIPELINE_SOURCE: "schedule" },
        VALIDATE_JOBS,
      ],
    ])("%s", (_, vars, expected) => {
      expect(jobsFor(vars)).toEqual([...expected].sort());
    });

    test("deploys are manual, allowed to fail, and need their own plan", () => {
      for (const s of STACKS) {
        const deploy = preview[`deploy:${s}`]!;
        expect(evaluate(deploy.rules, DEFAULT_BRANCH)).toBe("manual");
        expect(deploy.needs).toEqual([expect.objectContaining({ job: `plan:${s}`, artifacts: true })]);
      }
    });

    test("GITLAB_TOKEN's job runs on protected refs and schedules only, never in a merge request", () => {
      const ids = "gitlab-ids-current";
      expect(jobsFor({ ...DEFAULT_BRANCH, ...TOKEN })).toContain(ids);
      expect(jobsFor({ ...FEATURE_BRANCH, ...TOKEN, CI_PIPELINE_SOURCE: "schedule" })).toContain(ids);
      expect(jobsFor({ ...MR, ...TOKEN, CI_COMMIT_REF_PROTECTED: "true" })).not.toContain(ids);
      expect(jobsFor({ ...FEATURE_BRANCH, ...TOKEN })).not.toContain(ids);
      expect(jobsFor(DEFAULT_BRANCH)).not.toContain(ids);
    });

    test.each<[string, Vars]>([
      ["default branch", DEFAULT_BRANCH],
      ["default branch with GITLAB_TOKEN", { ...DEFAULT_BRANCH, ...TOKEN }],
      ["unprotected tag", UNPROTECTED_TAG],
    ])(
      "gitlab-ci-local confirms the evaluation: %s",
      (_, vars) => {
        const listed = listJobs(dir, vars).map((j) => j.name);
        expect(listed.sort()).toEqual(jobsFor(vars));
      },
      60_000,
    );
  });

  describe("what no pipeline variable can change", () => {
    test("every image in the pipeline, the release job's included, is written out and pinned by digest", () => {
      const jobs = visible();
      expect(jobs.map(([n]) => n)).toEqual(expect.arrayContaining(["release", ...DEPLOYS]));
      for (const [name, job] of jobs) {
        const image = typeof job.image === "string" ? job.image : job.image?.name;
        expect({ name, image }).toEqual({
          name,
          image: expect.stringMatching(/^[^$\s]+@sha256:[0-9a-f]{64}$/),
        });
      }
    });

    test("token audiences are literals; each stack's deploy jobs have their own", () => {
      for (const s of STACKS) {
        expect(preview[`plan:${s}`]!.id_tokens).toEqual({ AWS_ID_TOKEN: { aud: "sts.amazonaws.com" } });
        expect(preview[`deploy:${s}`]!.id_tokens).toEqual({ AWS_ID_TOKEN: { aud: deployAudience(s) } });
      }
    });

    test("plan, deploy and release checks run the sealed launcher and nothing else; deploys are time-bound", () => {
      for (const s of STACKS) {
        const plan = preview[`plan:${s}`]!;
        const deploy = preview[`deploy:${s}`]!;
        expect([plan.before_script ?? [], plan.script]).toEqual([[], ["sh src/pipeline/sealed-run.sh plan"]]);
        expect([deploy.before_script ?? [], deploy.script]).toEqual([
          [],
          ["sh src/pipeline/sealed-run.sh deploy"],
        ]);
        // Only STACK, which the launcher checks against the committed manifests and the token's audience
        expect(plan.variables).toEqual({ STACK: s });
        expect(deploy.variables).toEqual({ STACK: s });
        expect(deploy.timeout).toBe("30 minutes");
        expect(deploy.resource_group).toBe(s);
        expect(deploy.environment).toEqual({ name: `aws/${s}`, deployment_tier: "production" });
        expect(plan.artifacts).toMatchObject({
          access: "developer",
          paths: [`terraform/stacks/${s}/plan.txt`, `terraform/stacks/${s}/plan.digest`],
          reports: { terraform: `terraform/stacks/${s}/plan.json` },
        });
      }
      expect(preview["release-on-default-branch"]!.script).toEqual(["sh src/pipeline/sealed-run.sh release"]);
      expect(preview.release!.needs).toEqual(
        expect.arrayContaining([expect.objectContaining({ job: "release-on-default-branch" })]),
      );
    });

    test("the rules evaluator is not vacuous: a rule that reads a variable it should not is caught", () => {
      const tampered = [{ if: '$CI_COMMIT_TAG && $CI_COMMIT_REF_PROTECTED == "true"' }];
      expect(evaluate(tampered, UNPROTECTED_TAG)).toBeNull();
      expect(evaluate(tampered, TAG)).toBe("on_success");
      expect(evaluate([{ if: "$CI_COMMIT_TAG" }], UNPROTECTED_TAG)).toBe("on_success");
      expect(stringify(workflow)).toContain("CI_OPEN_MERGE_REQUESTS");
    });
  });

  describe("with local state (the example)", () => {
    test("no plan or deploy job that could only fail: the generated file holds only a hidden key", () => {
      expect(Object.keys(parseCiYaml(localStateJobs) as object)).toEqual([".gitlab-oidc-stacks"]);
    });
  });
});
