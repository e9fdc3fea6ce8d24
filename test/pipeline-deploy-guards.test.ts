/**
 * The deploy job's guards, run in the shells a job image may have (dash, BusyBox sh, bash):
 * - src/pipeline/require-head.sh refuses any commit but the default branch's head, read with
 *   `git ls-remote` from a stand-in of GitLab's git-over-HTTP on 127.0.0.1 with the job token;
 * - src/pipeline/deploy-env.sh, sourced first, drops what a pipeline variable could point elsewhere.
 */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GitHttpServer } from "./support/git-http-server";
import { repoRoot } from "./support/pipeline-repo";

const requireHead = join(repoRoot, "src", "pipeline", "require-head.sh");
const deployEnv = join(repoRoot, "src", "pipeline", "deploy-env.sh");
const TOKEN = "job-token-0123456789";
const SHELLS = [["dash"], ["busybox", "sh"], ["bash", "--norc", "--posix"]].filter(
  ([cmd]) => spawnSync("sh", ["-c", `command -v ${cmd}`]).status === 0,
);

const git = (cwd: string, ...args: string[]) =>
  execFileSync("git", ["-c", "user.email=t@example.com", "-c", "user.name=t", ...args], {
    cwd,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  }).trim();

describe("require-head.sh", () => {
  let root: string;
  let work: string;
  let remote: GitHttpServer;
  let first: string;
  let second: string;

  beforeAll(async () => {
    // GIVEN the project's repository (bare, served over HTTP with the job token) whose main has two
    // commits, first then second
    root = mkdtempSync(join(tmpdir(), "require-head-"));
    work = join(root, "work");
    mkdirSync(work);
    git(work, "init", "-q", "-b", "main");
    git(work, "commit", "-q", "--allow-empty", "-m", "A");
    first = git(work, "rev-parse", "HEAD");
    git(work, "commit", "-q", "--allow-empty", "-m", "B");
    second = git(work, "rev-parse", "HEAD");
    mkdirSync(join(root, "srv", "acme", "platform"), { recursive: true });
    git(root, "clone", "-q", "--bare", work, join("srv", "acme", "platform", "gitlab-oidc-aws.git"));
    remote = await GitHttpServer.start(join(root, "srv"), { jobToken: TOKEN });
  });
  afterAll(async () => {
    await remote.close();
    rmSync(root, { recursive: true, force: true });
  });

  /** Runs the script without blocking the event loop: the stand-in answers from this process. */
  function run(
    shell: string[],
    env: Record<string, string>,
  ): Promise<{ status: number | null; out: string }> {
    const child = spawn(shell[0]!, [...shell.slice(1), requireHead], {
      cwd: root,
      env: {
        PATH: process.env.PATH,
        HOME: root,
        CI_DEFAULT_BRANCH: "main",
        CI_COMMIT_BRANCH: "main",
        CI_PROJECT_DIR: join(root, "no-checkout"),
        CI_REPOSITORY_URL: remote.repositoryUrl("acme/platform/gitlab-oidc-aws", TOKEN),
        ...env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    return new Promise((resolve) => child.on("close", (status) => resolve({ status, out })));
  }

  test.each(SHELLS)("%s: the head of the default branch may deploy", async (...shell) => {
    // WHEN the deploy job of the pipeline for the newest commit checks
    const { status, out } = await run(shell, { CI_COMMIT_SHA: second });
    // THEN it passes, and the stand-in was asked with the job token
    expect(out).toMatch(`require-head: ${second} is the head of main`);
    expect(status).toBe(0);
  });

  test.each(SHELLS)("%s: an older pipeline's commit is refused, naming the head", async (...shell) => {
    // WHEN the deploy job of the pipeline for the older commit is played after the newer merge
    const { status, out } = await run(shell, { CI_COMMIT_SHA: first });
    // THEN it fails and says why and what to do
    expect(status).not.toBe(0);
    expect(out).toContain(`this pipeline's commit ${first} is no longer the head of main (now ${second})`);
    expect(out).toMatch(/Deploy from the pipeline of/);
  });

  test("a checkout that is not CI_COMMIT_SHA is refused (the variable was changed)", async () => {
    // GIVEN a checkout of the older commit, whose job claims to be the head
    const checkout = join(root, "checkout");
    rmSync(checkout, { recursive: true, force: true });
    git(root, "clone", "-q", work, checkout);
    git(checkout, "checkout", "-q", first);
    // WHEN it checks
    const { status, out } = await run(["sh"], { CI_COMMIT_SHA: second, CI_PROJECT_DIR: checkout });
    // THEN it fails: the runner's checkout decides, not the variable
    expect(status).not.toBe(0);
    expect(out).toContain(`the checkout is at ${first} but CI_COMMIT_SHA says ${second}`);
  });

  test("a pipeline that is not for the default branch is refused", async () => {
    const { status, out } = await run(["sh"], { CI_COMMIT_SHA: second, CI_COMMIT_BRANCH: "feature" });
    expect(status).not.toBe(0);
    expect(out).toMatch(/not for the default branch main/);
  });

  test("a rejected token fails clearly and never prints the token", async () => {
    // GIVEN a clone URL whose token the server rejects
    const url = remote.repositoryUrl("acme/platform/gitlab-oidc-aws", "wrong-token-secret");
    // WHEN it checks
    const { status, out } = await run(["sh"], { CI_COMMIT_SHA: second, CI_REPOSITORY_URL: url });
    // THEN it fails, says it could not read the head, and the token is not in the output
    expect(status).not.toBe(0);
    expect(out).toMatch(/could not read the head of main from the project's repository/);
    expect(out).not.toContain("wrong-token-secret");
  });

  test("a default branch the repository does not have is refused", async () => {
    const { status, out } = await run(["sh"], {
      CI_COMMIT_SHA: second,
      CI_DEFAULT_BRANCH: "trunk",
      CI_COMMIT_BRANCH: "trunk",
    });
    expect(status).not.toBe(0);
    expect(out).toMatch(/has no branch trunk/);
  });
});

describe("deploy-env.sh", () => {
  // Every name the script promises to drop (its header), each with a value that would send the deploy
  // elsewhere: removing any one unset fails the test.
  const hostile = {
    AWS_ENDPOINT_URL: "http://127.0.0.1:9/all",
    AWS_ENDPOINT_URL_STS: "http://127.0.0.1:9/sts",
    AWS_CREDENTIALS_STS_ENDPOINT: "http://127.0.0.1:9/component",
    AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: "pipeline-says-false",
    AWS_ACCESS_KEY_ID: "AKIAEXAMPLEEXAMPLE00",
    AWS_SECRET_ACCESS_KEY: "inherited-secret-key",
    AWS_SESSION_TOKEN: "inherited-session-token",
    AWS_ROLE_ARN: "arn:aws:iam::999999999999:role/elsewhere",
    AWS_WEB_IDENTITY_TOKEN_FILE: "/tmp/someone-elses-token",
    AWS_ROLE_SESSION_NAME: "elsewhere-session",
    AWS_STS_REGIONAL_ENDPOINTS: "pipeline-says-legacy",
    AWS_CONFIG_FILE: "/tmp/aws-config",
    AWS_SHARED_CREDENTIALS_FILE: "/tmp/aws-credentials",
    AWS_PROFILE: "someone-else",
    AWS_DEFAULT_PROFILE: "someone-else-default",
    TF_CLI_ARGS: "-lock=false",
    TF_CLI_ARGS_apply: "-target=x",
    TF_VAR_anything: "x",
    TF_CLI_CONFIG_FILE: "/tmp/mirror.tfrc",
    TF_PLUGIN_CACHE_DIR: "/tmp/plugins",
    TF_DATA_DIR: "/tmp/tf-data",
    TF_WORKSPACE: "other-workspace",
    TF_HTTP_LOCK_ADDRESS: "http://127.0.0.1:9/lock",
    TF_HTTP_ADDRESS: "http://127.0.0.1:9/state",
    TF_HTTP_PASSWORD: "not-the-job-token",
  };

  test.each(SHELLS)("%s: drops endpoints, inherited credentials and Terraform overrides", (...shell) => {
    // GIVEN a job environment with pipeline variables pointing the deploy elsewhere
    // WHEN deploy-env.sh is sourced and the environment listed
    const result = spawnSync(shell[0]!, [...shell.slice(1), "-c", `. "${deployEnv}" && env`], {
      encoding: "utf8",
      env: { PATH: process.env.PATH, CI_JOB_TOKEN: TOKEN, AWS_CREDENTIALS_REGION: "eu-west-1", ...hostile },
    });
    expect(result.status).toBe(0);
    const env = Object.fromEntries(
      result.stdout
        .split("\n")
        .filter((l) => l.includes("="))
        .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
    );
    // THEN none of them is left, the state credentials are the job token again, the rest is kept
    for (const name of Object.keys(hostile).filter((n) => n !== "TF_HTTP_PASSWORD"))
      expect(env).not.toHaveProperty(name);
    expect(env.TF_HTTP_USERNAME).toBe("gitlab-ci-token");
    expect(env.TF_HTTP_PASSWORD).toBe(TOKEN);
    expect(env.AWS_CREDENTIALS_REGION).toBe("eu-west-1");
    // AND the log names what was dropped, never a value
    expect(result.stderr).toMatch(/deploy-env: ignoring .*AWS_ENDPOINT_URL_STS/);
    expect(result.stderr).toMatch(/AWS_CREDENTIALS_STS_ENDPOINT/);
    for (const value of Object.values(hostile)) expect(result.stderr).not.toContain(value);
  });
});
