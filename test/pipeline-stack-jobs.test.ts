/**
 * The generated per-stack jobs (terraform/stacks.gitlab-ci.yml) and the sealed launcher's committed
 * settings (terraform/pipeline/<stack>.<plan|deploy>.env): one plan and one deploy job per account,
 * written by every synth and committed. Configs are test fixtures (test/support/configs.ts).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { synthesize } from "../src/synth";
import {
  PROFILES,
  ROLE_ARN_PLACEHOLDER,
  deployAudience,
  renderStackJobs,
  renderStackManifests,
} from "../src/pipeline/stack-jobs";
import type { SynthesizedStack } from "../src/terraform/synthesized-stacks";
import { minimalConfig, parse, problemsOf, withDeployers, type RawConfig } from "./support/configs";

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

/** Accounts production (111…), staging (222…) and sandbox-eu (333…), GitLab-managed state. */
function gitlabStateConfig(extra: RawConfig = {}, production: RawConfig = {}): RawConfig {
  const base = minimalConfig({}, production);
  const [account] = base.accounts as RawConfig[];
  return withDeployers({
    ...base,
    gitlab: { url: "https://gitlab.com", audience: "sts.amazonaws.com" },
    state: { type: "gitlab", url: "https://gitlab.com", projectId: 42 },
    accounts: [
      account,
      { ...account, ...production, name: "staging", accountId: "222222222222", deployRoleArn: undefined },
      {
        ...account,
        name: "sandbox-eu",
        accountId: "333333333333",
        region: "eu-central-1",
        deployRoleArn: undefined,
      },
    ],
    ...extra,
  });
}
const STACKS = [stack("production"), stack("staging"), stack("sandbox-eu", "eu-central-1")];

/** A manifest's lines as name → value. */
function manifest(text: string): Record<string, string> {
  return Object.fromEntries(
    text
      .split("\n")
      .filter((l) => l && !l.startsWith("#"))
      .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
  );
}

describe("renderStackJobs and renderStackManifests", () => {
  test("one plan and one deploy job per account; each says its stack, nothing else a variable could change", () => {
    // GIVEN a config with GitLab-managed state and three accounts
    const config = parse(gitlabStateConfig());
    // WHEN the jobs are rendered
    const jobs = parseYaml(renderStackJobs(config, STACKS)) as Record<string, Job>;
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
    expect(plan.variables).toEqual({ STACK: "sandbox-eu" });
    // AND the plan's artifacts are for developers only: the readable plan, its digest, the widget report
    expect(plan.artifacts).toMatchObject({
      access: "developer",
      paths: ["terraform/stacks/sandbox-eu/plan.txt", "terraform/stacks/sandbox-eu/plan.digest"],
      reports: { terraform: "terraform/stacks/sandbox-eu/plan.json" },
    });
    // AND the deploy needs that plan, one at a time per stack, in an environment of explicit tier
    expect(deploy.extends).toBe(".terraform-deploy");
    expect(deploy.needs).toEqual([{ job: "plan:sandbox-eu", artifacts: true }]);
    expect(deploy.resource_group).toBe("sandbox-eu");
    expect(deploy.environment).toEqual({ name: "aws/sandbox-eu", deployment_tier: "production" });
    expect(deploy.variables).toEqual({ STACK: "sandbox-eu" });
  });

  test("every token audience is a literal; each stack's deploy jobs have their own", () => {
    const config = parse(gitlabStateConfig());
    const jobs = parseYaml(renderStackJobs(config, STACKS)) as Record<string, Job>;
    for (const s of ["production", "staging", "sandbox-eu"]) {
      expect(jobs[`plan:${s}`]!.id_tokens).toEqual({ AWS_ID_TOKEN: { aud: "sts.amazonaws.com" } });
      expect(jobs[`deploy:${s}`]!.id_tokens).toEqual({
        AWS_ID_TOKEN: { aud: `gitlab-oidc-aws-deploy-${s}` },
      });
    }
    expect(deployAudience("production")).not.toBe(deployAudience("staging"));
  });

  test("the config is refused when no role of an account accepts its deploy job's audience, naming the fix", () => {
    // GIVEN GitLab-managed state, and staging's deployer gone while sandbox-eu's accepts production's audience
    const raw = gitlabStateConfig();
    const accounts = raw.accounts as RawConfig[];
    accounts[1] = { ...accounts[1], roles: (accounts[1]!.roles as RawConfig[]).slice(0, 1) };
    accounts[2] = {
      ...accounts[2],
      roles: (accounts[2]!.roles as RawConfig[]).map((r) =>
        r.name === "deployer" ? { ...r, audience: "gitlab-oidc-aws-deploy-production" } : r,
      ),
    };
    // WHEN the config is checked THEN both accounts are reported, each with its path and the audience to add
    expect(problemsOf(raw)).toEqual([
      expect.stringContaining(
        'accounts[1].roles: no role of account "staging" accepts gitlab-oidc-aws-deploy-staging, the audience of its generated deploy job (deploy:staging), so that job could only fail with InvalidIdentityToken: add audience: gitlab-oidc-aws-deploy-staging to the account\'s deployer role',
      ),
      expect.stringContaining(
        'accounts[2].roles: no role of account "sandbox-eu" accepts gitlab-oidc-aws-deploy-sandbox-eu',
      ),
    ]);
    // AND with the audience in a list of the role's, the config is valid again
    accounts[1] = {
      ...accounts[1],
      roles: [
        ...(accounts[1]!.roles as RawConfig[]),
        {
          name: "d",
          audience: ["x", "gitlab-oidc-aws-deploy-staging"],
          allow: [{ project: "a/b", branches: ["main"] }],
        },
      ],
    };
    expect(problemsOf(raw)).toEqual([expect.stringContaining('account "sandbox-eu"')]);
    // AND with local state (no deploy jobs) nothing is required
    expect(problemsOf({ ...raw, state: { type: "local" } })).toEqual([]);
  });

  test("deployRunnerTags become the deploy job's tags: for that account only; hostile tags are refused", () => {
    // GIVEN production's deploy job bound to a protected runner's tags, the other accounts' not
    const raw = gitlabStateConfig();
    const accounts = raw.accounts as RawConfig[];
    accounts[0] = { ...accounts[0], deployRunnerTags: ["aws-deploy", "prod: eu", "*x"] };
    const config = parse(raw);
    // WHEN the jobs are rendered
    const text = renderStackJobs(config, STACKS);
    const jobs = parseYaml(text) as Record<string, Job & { tags?: string[] }>;
    // THEN production's deploy job carries exactly those tags (YAML-quoted where needed), its plan job none
    expect(jobs["deploy:production"]!.tags).toEqual(["aws-deploy", "prod: eu", "*x"]);
    expect(jobs["plan:production"]!.tags).toBeUndefined();
    expect(jobs["deploy:staging"]!.tags).toBeUndefined();
    // AND a tag GitLab would expand ($VAR), split (,) or that carries a line break is refused, by path
    for (const tag of ["$RUNNER", "a,b", "a\nb", " lead", ""]) {
      accounts[0] = { ...accounts[0], deployRunnerTags: [tag] };
      expect(problemsOf(raw)).toEqual([
        expect.stringMatching(/ accounts\[0\]\.deployRunnerTags\[0\]: a runner tag (cannot|can)/),
      ]);
    }
  });

  test("the manifests hold the stack's directory, account, audience, region and profiles", () => {
    // GIVEN production with a deployRoleArn
    const arn = "arn:aws:iam::111111111111:role/platform-deployer";
    const config = parse(gitlabStateConfig({}, { deployRoleArn: arn }));
    // WHEN the manifests are rendered
    const files = renderStackManifests(config, STACKS);
    expect(Object.keys(files).sort()).toEqual(
      ["production", "staging", "sandbox-eu"]
        .flatMap((s) => [`pipeline/${s}.plan.env`, `pipeline/${s}.deploy.env`])
        .sort(),
    );
    const plan = manifest(files["pipeline/sandbox-eu.plan.env"]!);
    // THEN the plan job's chain is the planner from the token, in the stack's region and account
    expect(plan).toEqual({
      GITLAB_URL: "https://gitlab.com",
      STATE_TYPE: "gitlab",
      TF_ROOT: "terraform/stacks/sandbox-eu",
      ACCOUNT_ID: "333333333333",
      AWS_CREDENTIALS_MODE: "profiles",
      AWS_CREDENTIALS_REGION: "eu-central-1",
      ROLE_VARIABLE: "GITLAB_OIDC_PLAN_ROLE_ARN_SANDBOX_EU",
      AUDIENCE: "sts.amazonaws.com",
      AWS_CREDENTIALS_PROFILES: JSON.stringify([
        { name: PROFILES.plan, role_arn: ROLE_ARN_PLACEHOLDER, region: "eu-central-1" },
      ]),
      AWS_CREDENTIALS_DEFAULT_PROFILE: PROFILES.plan,
    });
    // AND production's deploy chains deployer → deployRoleArn, the provider's profile the end of it
    const deploy = manifest(files["pipeline/production.deploy.env"]!);
    expect(deploy.AUDIENCE).toBe("gitlab-oidc-aws-deploy-production");
    expect(deploy.ROLE_VARIABLE).toBe("GITLAB_OIDC_DEPLOY_ROLE_ARN_PRODUCTION");
    expect(JSON.parse(deploy.AWS_CREDENTIALS_PROFILES!)).toEqual([
      { name: PROFILES.deployer, role_arn: ROLE_ARN_PLACEHOLDER, region: "eu-west-1" },
      { name: PROFILES.deploy, role_arn: arn, source_profile: PROFILES.deployer, region: "eu-west-1" },
    ]);
    expect(deploy.AWS_CREDENTIALS_DEFAULT_PROFILE).toBe(PROFILES.deploy);
    // AND no plan manifest, nor staging's deploy, names deployRoleArn
    for (const name of ["production.plan", "staging.plan", "staging.deploy"])
      expect(files[`pipeline/${name}.env`]).not.toContain(arn);
  });

  test("with state in S3, jobs and manifests are generated; the job token goes only to the GitLab instance, never to Terraform", () => {
    // GIVEN the S3 state fixture (a bucket in production, per-stack deployers)
    const raw = parseYaml(
      readFileSync(join(__dirname, "fixtures", "state", "s3-state.yaml"), "utf8"),
    ) as RawConfig;
    const config = parse(raw);
    const stacks = STACKS.filter((s) => s.name === "production" || s.name === "staging").map((s) =>
      s.name === "staging" ? { ...s, accountId: "222222222222", region: "eu-central-1" } : s,
    );
    // WHEN the jobs and manifests are rendered
    const jobs = parseYaml(renderStackJobs(config, stacks)) as Record<string, unknown>;
    const files = renderStackManifests(config, stacks);
    // THEN each stack has its plan and deploy job, and its manifests say s3 and the tokens' instance
    expect(Object.keys(jobs).filter((j) => !j.startsWith("."))).toEqual(
      expect.arrayContaining(["plan:production", "deploy:production", "plan:staging", "deploy:staging"]),
    );
    for (const name of ["production.plan", "production.deploy", "staging.plan", "staging.deploy"]) {
      const values = manifest(files[`pipeline/${name}.env`]!);
      expect({ name, state: values.STATE_TYPE, url: values.GITLAB_URL }).toEqual({
        name,
        state: "s3",
        url: "https://gitlab.com",
      });
    }
    // AND the sealed step gives Terraform the job token (TF_HTTP_PASSWORD) for GitLab-managed state only
    const step = readFileSync(join(__dirname, "..", "src", "pipeline", "sealed-step.sh"), "utf8");
    expect(step).toMatch(
      /if \[ "\$\{STATE_TYPE:-gitlab\}" = gitlab \]; then\n\s+export TF_HTTP_USERNAME=gitlab-ci-token TF_HTTP_PASSWORD="\$job_token"\nfi/,
    );
  });

  test("a deployRoleArn with $, quotes or backslashes arrives in the manifest unchanged", () => {
    const arn = String.raw`arn:aws:iam::111111111111:role/odd$HOME"\'/deployer`;
    const config = parse(gitlabStateConfig({}, { deployRoleArn: arn }));
    const deploy = manifest(renderStackManifests(config, STACKS)["pipeline/production.deploy.env"]!);
    expect((JSON.parse(deploy.AWS_CREDENTIALS_PROFILES!) as { role_arn: string }[])[1]!.role_arn).toBe(arn);
  });

  test("state: local gets no plan or deploy job and no manifest, and the file is still valid to include", () => {
    const config = parse(minimalConfig());
    const text = renderStackJobs(config, [stack("production")]);
    expect(Object.keys(parseYaml(text) as object)).toEqual([".gitlab-oidc-stacks"]);
    expect(text).toMatch(/No plan or deploy jobs: state\.type is local/);
    expect(renderStackManifests(config, [stack("production")])).toEqual({});
  });

  test("a synth writes the manifests and keeps each stack's committed provider lock file", () => {
    const outdir = mkdtempSync(join(tmpdir(), "lock-file-"));
    try {
      const config = parse(gitlabStateConfig());
      synthesize(config, { outdir, hcl: true });
      expect(readFileSync(join(outdir, "pipeline", "staging.deploy.env"), "utf8")).toContain(
        "AUDIENCE=gitlab-oidc-aws-deploy-staging\n",
      );
      const lock = join(outdir, "stacks", "production", ".terraform.lock.hcl");
      writeFileSync(lock, "# provider hashes\n");
      synthesize(config, { outdir, hcl: true });
      expect(readFileSync(lock, "utf8")).toBe("# provider hashes\n");
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });

  test("refuses two stacks whose CI/CD variable names would collide", () => {
    const config = parse(gitlabStateConfig());
    expect(() => renderStackJobs(config, [stack("a-b"), stack("a_b")])).toThrow(/"a-b" and "a_b".*A_B/);
  });
});
