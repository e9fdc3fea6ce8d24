/**
 * The built entry point (`npm run resolve` runs node dist/src/gitlab/cli.js) as a process, against the
 * GitLab API stand-in: the lock it writes, --check's exit codes, and the token kept out of output.
 */
import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { GitLabApiStandIn } from "../support/gitlab-api-stand-in";
import { minimalConfig } from "../support/configs";

const REPO = join(__dirname, "..", "..");
const CLI = join(REPO, "dist", "src", "gitlab", "cli.js");
const TOKEN = "glpat-e2e-secret-value";

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
  writeFileSync(
    join(dir, "gitlab-oidc.yaml"),
    stringify(
      minimalConfig({
        allow: [
          { project: "acme/web", branches: ["main"] },
          { group: "acme/platform", tags: ["v*"] },
        ],
      }),
    ),
  );
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
