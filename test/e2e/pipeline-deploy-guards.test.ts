/**
 * The deploy job's guards, run in the shells a job image may have (dash, BusyBox sh, bash):
 * src/pipeline/require-head.sh (inside the sealed launcher) refuses any commit but the default branch's
 * head, with the branch and its head read from the checkout's origin itself (a git-over-HTTP stand-in
 * of GitLab on 127.0.0.1 that wants the job token), never from variables, and with git sealed from the
 * environment it was started in.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GitHttpServer } from "../support/git-http-server";
import { repoRoot } from "../support/pipeline-repo";
import { runAsync } from "../support/run";

const requireHead = join(repoRoot, "src", "pipeline", "require-head.sh");
const TOKEN = "job-token-0123456789";
const SHELLS = [["dash"], ["busybox", "sh"], ["bash", "--posix"]].filter(
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
  let bare: string;
  let remote: GitHttpServer;
  let first: string;
  let second: string;

  beforeAll(async () => {
    // GIVEN the project's repository (bare, served over HTTP with the job token) whose main has two
    // commits, first then second, and a checkout whose origin is it (as the runner writes it)
    root = mkdtempSync(join(tmpdir(), "require-head-"));
    work = join(root, "work");
    mkdirSync(work);
    git(work, "init", "-q", "-b", "main");
    git(work, "commit", "-q", "--allow-empty", "-m", "A");
    first = git(work, "rev-parse", "HEAD");
    git(work, "commit", "-q", "--allow-empty", "-m", "B");
    second = git(work, "rev-parse", "HEAD");
    mkdirSync(join(root, "srv", "acme", "platform"), { recursive: true });
    bare = join(root, "srv", "acme", "platform", "gitlab-oidc-aws.git");
    git(root, "clone", "-q", "--bare", work, bare);
    remote = await GitHttpServer.start(join(root, "srv"), { jobToken: TOKEN });
    git(work, "remote", "add", "origin", remote.repositoryUrl("acme/platform/gitlab-oidc-aws", TOKEN));
  });
  afterAll(async () => {
    await remote.close();
    rmSync(root, { recursive: true, force: true });
  });

  /** The script as the sealed step starts it, at `checkout` of the working copy. */
  async function check(shell: string[], checkout: string, env: Record<string, string> = {}) {
    git(work, "checkout", "-q", "--detach", checkout);
    return runAsync(shell[0]!, [...shell.slice(1), requireHead], {
      cwd: work,
      env: {
        PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        CI_PROJECT_DIR: work,
        CI_SERVER_URL: remote.url,
        CI_COMMIT_SHA: checkout,
        REQUIRE_HEAD_TOKEN: TOKEN,
        ...env,
      },
    });
  }

  test.each(SHELLS)("%s: the head of the default branch may deploy", async (...shell) => {
    // WHEN the deploy job of the pipeline for the newest commit checks
    const result = await check(shell, second);
    // THEN it passes, naming the default branch the remote reported
    expect(result.stderr).toBe("");
    expect(result.stdout).toBe(
      `require-head: ${second} is the head of main (read from ${remote.url}/acme/platform/gitlab-oidc-aws.git)\n`,
    );
  });

  test.each(SHELLS)("%s: an older pipeline's commit is refused, naming the head", async (...shell) => {
    const result = await check(shell, first);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`${first} is not the head of the default branch main (now ${second})`);
  });

  test("git ignores the GIT_* variables, proxies and HOME of the environment it is started in", async () => {
    // GIVEN an environment that would redirect the remote to a dead port and break TLS and config
    const result = await check(["sh"], second, {
      GIT_CONFIG_COUNT: "1",
      GIT_CONFIG_KEY_0: `url.http://127.0.0.1:9/.insteadOf`,
      GIT_CONFIG_VALUE_0: remote.url,
      http_proxy: "http://127.0.0.1:9",
      HOME: "/nonexistent",
      GIT_DIR: "/nonexistent",
    });
    // THEN the head was read from the real remote all the same
    expect(result.stderr).toBe("");
    expect(result.stdout).toContain(`${second} is the head of main`);
  });

  test("a checkout that is not CI_COMMIT_SHA is refused (the variable was changed)", async () => {
    const result = await check(["sh"], first, { CI_COMMIT_SHA: second });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`the checkout is at ${first} but CI_COMMIT_SHA says ${second}`);
  });

  test("an origin outside CI_SERVER_URL never gets the token", async () => {
    const result = await check(["sh"], second, { CI_SERVER_URL: "https://gitlab.example.com" });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/origin .* is not under CI_SERVER_URL https:\/\/gitlab\.example\.com/);
  });

  test("a rejected token fails clearly and never prints the token", async () => {
    const result = await check(["sh"], second, { REQUIRE_HEAD_TOKEN: "wrong-token-value" });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/could not read the default branch from .* \(git ls-remote\)/);
    expect(result.output).not.toContain("wrong-token-value");
    expect(result.output).not.toContain(TOKEN);
  });

  test("the default branch is what the remote says, whatever it is called", async () => {
    // GIVEN the remote's HEAD moved to a branch named trunk at the first commit
    git(bare, "update-ref", "refs/heads/trunk", first);
    git(bare, "symbolic-ref", "HEAD", "refs/heads/trunk");
    try {
      const result = await check(["sh"], first);
      expect(result.stdout).toContain(`${first} is the head of trunk`);
    } finally {
      git(bare, "symbolic-ref", "HEAD", "refs/heads/main");
    }
  });
});

describe("require-head.sh --ancestor (release jobs)", () => {
  let root: string;
  let work: string;
  let remote: GitHttpServer;
  let onMain: string;
  let offMain: string;

  beforeAll(async () => {
    // GIVEN main with two commits on the remote, and a commit on a side branch that never merged
    root = mkdtempSync(join(tmpdir(), "require-ancestor-"));
    work = join(root, "work");
    mkdirSync(work);
    git(work, "init", "-q", "-b", "main");
    git(work, "commit", "-q", "--allow-empty", "-m", "A");
    onMain = git(work, "rev-parse", "HEAD");
    git(work, "commit", "-q", "--allow-empty", "-m", "B");
    mkdirSync(join(root, "srv", "acme"), { recursive: true });
    git(root, "clone", "-q", "--bare", work, join("srv", "acme", "app.git"));
    git(work, "checkout", "-q", "-b", "side", onMain);
    git(work, "commit", "-q", "--allow-empty", "-m", "unreviewed");
    offMain = git(work, "rev-parse", "HEAD");
    remote = await GitHttpServer.start(join(root, "srv"), { jobToken: TOKEN });
    git(work, "remote", "add", "origin", remote.repositoryUrl("acme/app", TOKEN));
  });
  afterAll(async () => {
    await remote.close();
    rmSync(root, { recursive: true, force: true });
  });

  const check = (sha: string) => {
    git(work, "checkout", "-q", "--detach", sha);
    return runAsync("sh", [requireHead, "--ancestor"], {
      cwd: work,
      env: {
        PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        CI_PROJECT_DIR: work,
        CI_SERVER_URL: remote.url,
        CI_COMMIT_SHA: sha,
        REQUIRE_HEAD_TOKEN: TOKEN,
      },
    });
  };

  test("a tag on a commit of the default branch may be released", async () => {
    const result = await check(onMain);
    expect(result.stderr).toBe("");
    expect(result.stdout).toContain(`${onMain} is on the default branch main`);
  });

  test("a tag on a commit that is not on the default branch publishes nothing", async () => {
    const result = await check(offMain);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`the tagged commit ${offMain} is not on the default branch main`);
  });
});
