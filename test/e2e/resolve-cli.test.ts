/**
 * The built entry point (`npm run resolve` runs node dist/src/gitlab/cli.js) as a process, against the
 * GitLab API stand-in: the lock it writes, --check's exit codes, and the token kept out of output.
 */
import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { stringify } from "yaml";
import { parseLock } from "../../src/gitlab/lock";
import { GitLabApiStandIn } from "../support/gitlab-api-stand-in";
import { minimalConfig } from "../support/configs";
import { copyRepository, gitlabCiLocal, removeRepository } from "../support/pipeline-repo";

const REPO = join(__dirname, "..", "..");
const CLI = join(REPO, "dist", "src", "gitlab", "cli.js");
const TOKEN = "glpat-e2e-secret-value";
const CONFIG = stringify(
  minimalConfig({
    allow: [
      { project: "acme/web", branches: ["main"] },
      { group: "acme/platform", tags: ["v*"] },
    ],
  }),
);

let standIn: GitLabApiStandIn;
let dir: string;

beforeAll(async () => {
  execFileSync(process.execPath, [join(REPO, "scripts", "build.mjs")], { cwd: REPO });
  standIn = await GitLabApiStandIn.start();
  standIn.addToken(TOKEN, { user: "ci" });
  standIn.addGroup("acme", { id: 10 });
  standIn.addProject("acme/web", { id: 11 });
  standIn.addGroup("acme/platform", { id: 12 });
  standIn.addGroup("acme/platform/a", { id: 13 });
  dir = mkdtempSync(join(tmpdir(), "resolve-e2e-"));
  writeFileSync(join(dir, "gitlab-oidc.yaml"), CONFIG);
}, 60_000);
afterAll(async () => {
  await standIn?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Asynchronous: the stand-in answers from this process's event loop. */
function run(args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { cwd: dir, env: { ...process.env, GITLAB_API_URL: standIn.apiUrl, GITLAB_TOKEN: TOKEN, ...env } },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, stdout, stderr }),
    );
  });
}

test("resolve writes gitlab-oidc.lock.yaml beside the config; --check exits 0, then 1 after a new subgroup; 2 for a bad token, which it never prints", async () => {
  const written = await run([]);
  expect(written).toMatchObject({ code: 0, stderr: "" });
  const lock = readFileSync(join(dir, "gitlab-oidc.lock.yaml"), "utf8");
  expect(lock).toContain('"acme/web": { id: 11, namespaceId: 10 }');
  expect(lock).toContain('"acme/platform": { id: 12, descendantIds: [13] }');

  expect(await run(["--check"])).toMatchObject({ code: 0 });

  standIn.addGroup("acme/platform/b", { id: 14 });
  const drift = await run(["--check"]);
  expect(drift.code).toBe(1);
  expect(drift.stderr).toMatch(/group acme\/platform: new descendant groups acme\/platform\/b \(ID 14\)/);
  expect(readFileSync(join(dir, "gitlab-oidc.lock.yaml"), "utf8")).toBe(lock);

  standIn.options = { echoTokenInErrors: true };
  const refused = await run([], { GITLAB_TOKEN: "glpat-refused-secret" });
  standIn.options = {};
  expect(refused.code).toBe(2);
  expect(refused.stderr).toMatch(/401 Unauthorized/);
  expect(refused.stdout + refused.stderr).not.toContain("glpat-refused-secret");
  expect(readFileSync(join(dir, "gitlab-oidc.lock.yaml"), "utf8")).toBe(lock);

  expect(await run(["--nope"])).toMatchObject({ code: 2 });
  expect((await run(["--help"])).stdout).toMatch(/Exit codes: 0 the lock is current/);
}, 60_000);

// When the job is in the pipeline (protected refs and schedules with GITLAB_TOKEN, never a merge request)
// is test/e2e/pipeline-ci.test.ts's: evaluated from one preview for every case, confirmed by gitlab-ci-local.
describe("the pipeline's gitlab-ids-current job (gitlab-ci-local, shell executor, node_modules reused)", () => {
  let repo: string;
  let gitlab: GitLabApiStandIn;
  beforeAll(async () => {
    // The repository as committed: the example config and its lock, served by a GitLab with those IDs.
    const lock = parseLock(
      readFileSync(join(REPO, "test/fixtures/configs/example.lock.yaml"), "utf8"),
      "gitlab-oidc.lock.yaml",
    );
    gitlab = await GitLabApiStandIn.start();
    gitlab.addToken(TOKEN, { user: "ci" });
    for (const [path, project] of Object.entries(lock.projects)) {
      gitlab.addGroup(path.slice(0, path.lastIndexOf("/")), { id: project.namespaceId });
      gitlab.addProject(path, { id: project.id });
    }
    for (const [path, group] of Object.entries(lock.groups)) {
      gitlab.addGroup(path, { id: group.id });
      group.descendantIds.forEach((id, i) => gitlab.addGroup(`${path}/sub-${i}`, { id }));
    }
    repo = copyRepository();
  }, 120_000);
  afterAll(async () => {
    await gitlab?.close();
    if (repo) removeRepository(repo);
  });

  /** gitlab-ci-local asynchronously: the stand-in answers from this process's event loop. */
  function runJob(variables: Record<string, string>) {
    const args = [
      "gitlab-ids-current",
      "--force-shell-executor",
      "--state-dir",
      relative(repo, `${repo}-gitlab-ci-local`),
    ];
    for (const [name, value] of Object.entries(variables)) args.push("--variable", `${name}=${value}`);
    return new Promise<{ code: number; output: string }>((resolve) => {
      execFile(
        gitlabCiLocal,
        args,
        { cwd: repo, env: { ...process.env, FORCE_COLOR: "0", NO_COLOR: "1" }, maxBuffer: 64 * 1024 * 1024 },
        (error, stdout, stderr) =>
          resolve({ code: error ? Number(error.code) : 0, output: `${stdout}\n${stderr}` }),
      );
    });
  }

  test("GIVEN GITLAB_TOKEN WHEN the committed example lock is current THEN the job passes; WHEN a group gained a subgroup THEN it fails naming it; the token is never printed", async () => {
    const variables = { GITLAB_TOKEN: TOKEN, GITLAB_API_URL: gitlab.apiUrl, REUSE_NODE_MODULES: "true" };
    const current = await runJob(variables);
    expect(current.code === 0 ? "" : current.output).toBe("");
    expect(current.output).toMatch(
      /gitlab-oidc\.lock\.yaml is current: 1 project\(s\), 1 group\(s\) with 3 descendant group\(s\)/,
    );

    gitlab.addGroup("acme/platform/new-team", { id: 99_000_001 });
    const drift = await runJob(variables);
    expect(drift.code).not.toBe(0);
    expect(drift.output).toMatch(
      /group acme\/platform: new descendant groups acme\/platform\/new-team \(ID 99000001\)/,
    );
    expect(current.output + drift.output).not.toContain(TOKEN);
  }, 300_000);
});
