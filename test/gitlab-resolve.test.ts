/**
 * `npm run resolve` and `npm run resolve -- --check` (runResolve, in process) against the GitLab API
 * stand-in: the lock it writes, what --check reports, and every failure leaving the old lock as it was.
 */
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { loadConfigFile } from "../src/config/load";
import { EXIT_CURRENT, EXIT_DRIFT, EXIT_ERROR, runResolve, type LockFileOps } from "../src/gitlab/cli";
import { parseLock } from "../src/gitlab/lock";
import { GitLabApiStandIn, type StandInOptions } from "./support/gitlab-api-stand-in";
import { minimalConfig } from "./support/configs";

const TOKEN = "glpat-s3cr3t-t0ken-value";

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly waits: number[];
}

let standIn: GitLabApiStandIn;
let dir: string;
let configFile: string;
let lockFile: string;

/** acme/web and acme/api in acme; acme/platform with 150 subgroups over 2 levels (2 pages of 100). */
async function startGitLab(options: StandInOptions = {}) {
  standIn = await GitLabApiStandIn.start(options);
  standIn.addToken(TOKEN, { user: "ci-bot" });
  standIn.addGroup("acme", { id: 2001 });
  standIn.addProject("acme/web", { id: 1001 });
  standIn.addProject("acme/api", { id: 1002 });
  standIn.addGroup("acme/platform", { id: 2002 });
  for (let team = 0; team < 10; team++) {
    standIn.addGroup(`acme/platform/team-${team}`, { id: 3000 + team * 100 });
    for (let sub = 1; sub < 15; sub++) {
      standIn.addGroup(`acme/platform/team-${team}/svc-${sub}`, { id: 3000 + team * 100 + sub });
    }
  }
  standIn.addProject("acme/platform/team-0/infra", { id: 1003 });
}

const EXPECTED_DESCENDANTS = Array.from({ length: 10 }, (_, team) =>
  Array.from({ length: 15 }, (_, sub) => 3000 + team * 100 + sub),
).flat();

function writeConfig(grants: Record<string, unknown>[]) {
  writeFileSync(configFile, stringify(minimalConfig({ allow: grants })));
}

const GRANTS = [
  { project: "acme/web", branches: ["main"] },
  { project: "acme/api", tags: ["v*"] },
  { group: "acme/platform", branches: ["main"] },
];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "resolve-"));
  configFile = join(dir, "gitlab-oidc.yaml");
  lockFile = join(dir, "gitlab-oidc.lock.yaml");
  writeConfig(GRANTS);
  await startGitLab();
});
afterEach(async () => {
  await standIn.close();
  rmSync(dir, { recursive: true, force: true });
});

async function resolve(
  args: string[] = [],
  env: Record<string, string | undefined> = {},
  timeoutMs = 2000,
): Promise<Run> {
  let stdout = "";
  let stderr = "";
  const waits: number[] = [];
  const code = await runResolve(args, {
    env: { GITLAB_OIDC_CONFIG: configFile, GITLAB_API_URL: standIn.apiUrl, GITLAB_TOKEN: TOKEN, ...env },
    io: { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text) },
    api: {
      sleep: async (ms) => {
        waits.push(ms);
      },
      backoffMs: 10,
      timeoutMs,
    },
  });
  return { code, stdout, stderr, waits };
}

const check = (env: Record<string, string | undefined> = {}) => resolve(["--check"], env);

/** Runs resolve once so a lock exists; returns its bytes. */
async function lockedBaseline(): Promise<Buffer> {
  const run = await resolve();
  expect(run).toMatchObject({ code: EXIT_CURRENT });
  return readFileSync(lockFile);
}

describe("npm run resolve", () => {
  test("GIVEN grants of projects and a group with 150 nested subgroups WHEN resolved THEN the lock has every ID, following the pages to the end", async () => {
    const run = await resolve();

    expect(run.stderr).toBe("");
    expect(run.code).toBe(EXIT_CURRENT);
    const lock = parseLock(readFileSync(lockFile, "utf8"), lockFile);
    expect(lock.projects).toEqual({
      "acme/api": { id: 1002, namespaceId: 2001 },
      "acme/web": { id: 1001, namespaceId: 2001 },
    });
    expect(lock.groups["acme/platform"].id).toBe(2002);
    expect(lock.groups["acme/platform"].descendantIds).toEqual(EXPECTED_DESCENDANTS);
    const pages = standIn.requests.filter((r) => r.url.includes("/descendant_groups"));
    expect(pages).toHaveLength(2);
    expect(pages.every((r) => /all_available=true/.test(r.url) && /per_page=100/.test(r.url))).toBe(true);
    expect(run.stdout).toMatch(/\+ project acme\/web/);
    expect(run.stdout).toMatch(
      /Wrote .*gitlab-oidc\.lock\.yaml: 2 project\(s\), 1 group\(s\) with 150 descendant group\(s\)/,
    );
  });

  test("GIVEN no lock, so the full loader (synth) refuses the config WHEN resolved THEN resolve still reads it and writes the lock, which the loader then accepts", async () => {
    writeConfig(GRANTS.slice(0, 2));
    expect(() => loadConfigFile(configFile)).toThrow(/npm run resolve/);
    const run = await resolve();
    expect(run.code).toBe(EXIT_CURRENT);
    expect(loadConfigFile(configFile).lock?.projects["acme/web"]).toEqual({ id: 1001, namespaceId: 2001 });
  });

  test("GIVEN a GitLab that sends no Link header and no totals (over 10,000 records) WHEN resolved THEN x-next-page is followed to the end", async () => {
    standIn.options = { omitLinkHeader: true, omitTotals: true };
    await resolve();
    expect(parseLock(readFileSync(lockFile, "utf8"), lockFile).groups["acme/platform"].descendantIds).toEqual(
      EXPECTED_DESCENDANTS,
    );
  });

  test("GIVEN a token whose user is a member of nothing WHEN resolved THEN still every visible descendant (all_available=true), and the private ones it cannot see are not invented", async () => {
    standIn.addGroup("acme/platform/secret", { id: 9999, visibility: "private", members: ["someone-else"] });
    await resolve();
    const ids = parseLock(readFileSync(lockFile, "utf8"), lockFile).groups["acme/platform"].descendantIds;
    expect(ids).toHaveLength(150);
    expect(ids).not.toContain(9999);
  });

  test("GIVEN a lock with an entry no grant names any more WHEN resolved THEN the entry is removed", async () => {
    await lockedBaseline();
    writeConfig([GRANTS[0]]);
    const run = await resolve();
    expect(run.stdout).toMatch(/- project acme\/api \(no grant names it any more\)/);
    const lock = parseLock(readFileSync(lockFile, "utf8"), lockFile);
    expect(Object.keys(lock.projects)).toEqual(["acme/web"]);
    expect(lock.groups).toEqual({});
  });

  test("GIVEN a current lock WHEN resolved again THEN the file is not rewritten", async () => {
    const before = await lockedBaseline();
    const run = await resolve();
    expect(run.stdout).toMatch(/already current/);
    expect(readFileSync(lockFile)).toEqual(before);
  });

  test("GIVEN a lock that is not valid WHEN resolved THEN it is replaced, and the run says so", async () => {
    writeFileSync(lockFile, "projects: [");
    const run = await resolve();
    expect(run.code).toBe(EXIT_CURRENT);
    expect(run.stdout).toMatch(/replaced an unreadable lock \(.*invalid YAML/);
    expect(Object.keys(parseLock(readFileSync(lockFile, "utf8"), lockFile).projects)).toHaveLength(2);
  });

  test("GIVEN a recycled project path WHEN resolved THEN the new ID is written and the change is shouted, not hidden", async () => {
    await lockedBaseline();
    standIn.deleteProject("acme/web");
    standIn.addProject("acme/web", { id: 5555 });
    const run = await resolve();
    expect(run.code).toBe(EXIT_CURRENT);
    expect(run.stdout).toMatch(/! project acme\/web: ID 1001 -> 5555: the path now names ANOTHER project/);
  });

  test("GIVEN a path spelled in another case than GitLab's WHEN resolved THEN refused, naming GitLab's spelling; no lock written", async () => {
    // The lock would pin IDs under a spelling no token carries: a grant that never matches.
    writeConfig([{ project: "Acme/Web", branches: ["main"] }]);
    const run = await resolve();
    expect(run.code).toBe(EXIT_ERROR);
    expect(run.stderr).toMatch(
      /project Acme\/Web: GitLab spells it "acme\/web".*never match: write "acme\/web" in the config/,
    );
    expect(run.stderr).toMatch(/Nothing was written; .*gitlab-oidc\.lock\.yaml is unchanged/);
    expect(existsSync(lockFile)).toBe(false);
  });

  test("GIVEN a config with a schema error WHEN resolved THEN exit 2 with the file, line and field, before any request", async () => {
    writeFileSync(
      configFile,
      readFileSync(configFile, "utf8").replace("project: acme/web", "projekt: acme/web"),
    );
    const run = await resolve();
    expect(run.code).toBe(EXIT_ERROR);
    expect(run.stderr).toMatch(
      /gitlab-oidc\.yaml:\d+:\d+: accounts\[0\]\.roles\[0\]\.allow\[0\]\.projekt: .*did you mean "project"/,
    );
    expect(run.stderr).toMatch(/Nothing was written/);
    expect(standIn.requests).toHaveLength(0);
    expect(existsSync(lockFile)).toBe(false);
  });

  test("GIVEN a config that shares grants with YAML anchors and a merge key WHEN resolved THEN it reads them as synth does", async () => {
    writeFileSync(
      configFile,
      [
        "gitlab: { url: https://gitlab.com }",
        "accounts:",
        "  - name: production",
        '    accountId: "111111111111"',
        "    region: eu-west-1",
        "    roles:",
        "      - name: deploy",
        "        allow:",
        "          - &web { project: acme/web, branches: [main] }",
        "          - <<: { group: acme/platform }",
        "            tags: [v*]",
        "      - name: read",
        "        allow: [*web]",
      ].join("\n"),
    );
    const run = await resolve();
    expect(run.stderr).toBe("");
    const lock = parseLock(readFileSync(lockFile, "utf8"), lockFile);
    expect(Object.keys(lock.projects)).toEqual(["acme/web"]);
    expect(Object.keys(lock.groups)).toEqual(["acme/platform"]);
  });

  test("GIVEN a config whose aliases multiply (billion laughs) WHEN resolved THEN refused with the loader's message, before any request", async () => {
    const laughs = ["a: &a [x, x, x, x, x, x, x, x, x, x]"];
    for (let i = 1; i < 8; i++)
      laughs.push(
        `${"abcdefgh"[i]}: &${"abcdefgh"[i]} [${Array(10)
          .fill(`*${"abcdefgh"[i - 1]}`)
          .join(", ")}]`,
      );
    writeFileSync(configFile, laughs.join("\n"));
    const run = await resolve();
    expect(run.code).toBe(EXIT_ERROR);
    expect(run.stderr).toMatch(/YAML aliases (expand to )?more than 100/);
    expect(standIn.requests).toHaveLength(0);
  });

  test("GIVEN public projects and no GITLAB_TOKEN WHEN resolved THEN no token is sent and the lock is written", async () => {
    const run = await resolve([], { GITLAB_TOKEN: undefined });
    expect(run.code).toBe(EXIT_CURRENT);
    expect(standIn.requests.every((r) => r.token === undefined)).toBe(true);
    expect(standIn.requests.length).toBeGreaterThan(0);
  });

  test("GIVEN a successful run THEN the token was sent as PRIVATE-TOKEN and appears in no output and no file", async () => {
    const run = await resolve();
    expect(standIn.requests.every((r) => r.token === TOKEN)).toBe(true);
    expect(run.stdout + run.stderr).not.toContain(TOKEN);
    for (const file of readdirSync(dir)) expect(readFileSync(join(dir, file), "utf8")).not.toContain(TOKEN);
  });
});

describe("npm run resolve -- --check", () => {
  test("GIVEN a current lock WHEN checked THEN exit 0 and the file is byte-identical", async () => {
    const before = await lockedBaseline();
    const run = await check();
    expect(run.code).toBe(EXIT_CURRENT);
    expect(run.stdout).toMatch(/is current: 2 project\(s\), 1 group\(s\) with 150 descendant group\(s\)/);
    expect(readFileSync(lockFile)).toEqual(before);
  });

  test("GIVEN a recycled path (same path, new ID) WHEN checked THEN exit 1 naming the path and both IDs, and nothing changes", async () => {
    const before = await lockedBaseline();
    standIn.deleteProject("acme/web");
    standIn.addProject("acme/web", { id: 7777 });
    const run = await check();
    expect(run.code).toBe(EXIT_DRIFT);
    expect(run.stderr).toMatch(
      /project acme\/web: the lock says ID 1001, GitLab now says ID 7777: the path names another project/,
    );
    expect(readFileSync(lockFile)).toEqual(before);
  });

  test("GIVEN a recycled group path WHEN checked THEN exit 1 naming the group", async () => {
    await lockedBaseline();
    standIn.deleteGroup("acme/platform");
    standIn.addGroup("acme/platform", { id: 8888 });
    const run = await check();
    expect(run.code).toBe(EXIT_DRIFT);
    expect(run.stderr).toMatch(/group acme\/platform: the lock says ID 2002, GitLab now says ID 8888/);
  });

  test("GIVEN a deleted project WHEN checked THEN exit 1: it no longer resolves, deleted, renamed or transferred", async () => {
    const before = await lockedBaseline();
    standIn.deleteProject("acme/api");
    const run = await check();
    expect(run.code).toBe(EXIT_DRIFT);
    expect(run.stderr).toMatch(
      /project acme\/api: no longer resolves \(project acme\/api: GitLab answered 404/,
    );
    expect(readFileSync(lockFile)).toEqual(before);
  });

  test("GIVEN a renamed project WHEN checked THEN exit 1 naming the old path and that GitLab only redirects it", async () => {
    await lockedBaseline();
    standIn.moveProject("acme/web", "acme/web-app");
    const run = await check();
    expect(run.code).toBe(EXIT_DRIFT);
    expect(run.stderr).toMatch(
      /project acme\/web: no longer resolves \(.*the path has moved \(it now redirects to ID 1001\)/,
    );
  });

  test("GIVEN new and removed descendant groups WHEN checked THEN exit 1 naming the new subgroups and the gone IDs", async () => {
    const before = await lockedBaseline();
    standIn.addGroup("acme/platform/team-3/svc-1/new-thing", { id: 6001 });
    standIn.deleteGroup("acme/platform/team-9/svc-14");
    const run = await check();
    expect(run.code).toBe(EXIT_DRIFT);
    expect(run.stderr).toMatch(
      /group acme\/platform: new descendant groups acme\/platform\/team-3\/svc-1\/new-thing \(ID 6001\); descendant group IDs gone: 3914/,
    );
    expect(readFileSync(lockFile)).toEqual(before);
  });

  test("GIVEN only a deleted descendant group WHEN checked THEN exit 1 naming its ID", async () => {
    await lockedBaseline();
    standIn.deleteGroup("acme/platform/team-2");
    const run = await check();
    expect(run.code).toBe(EXIT_DRIFT);
    expect(run.stderr).toMatch(/group acme\/platform: descendant group IDs gone: 3200, 3201, .*3214\. Check/);
  });

  test("GIVEN a config naming a path the lock does not have WHEN checked THEN exit 1 naming it and saying to run resolve", async () => {
    await lockedBaseline();
    writeConfig([...GRANTS, { project: "acme/platform/team-0/infra", branches: ["main"] }]);
    const run = await check();
    expect(run.code).toBe(EXIT_DRIFT);
    expect(run.stderr).toMatch(
      /project acme\/platform\/team-0\/infra: named in the config but not in the lock; run npm run resolve/,
    );
  });

  test("GIVEN no lock at all WHEN checked THEN exit 1, and no lock is created", async () => {
    const run = await check();
    expect(run.code).toBe(EXIT_DRIFT);
    expect(run.stderr).toMatch(/project acme\/web: named in the config but not in the lock/);
    expect(existsSync(lockFile)).toBe(false);
  });

  test("GIVEN a lock that is not valid WHEN checked THEN exit 1 naming the file and the fix, without asking GitLab", async () => {
    writeFileSync(lockFile, "projects: [");
    const run = await check();
    expect(run.code).toBe(EXIT_DRIFT);
    expect(run.stderr).toMatch(/gitlab-oidc\.lock\.yaml:1:\d+: invalid YAML[^]*npm run resolve rewrites it/);
    expect(standIn.requests).toHaveLength(0);
  });
});

describe("failures name the path and the fix, never print the token, and leave the old lock untouched", () => {
  let before: Buffer;
  beforeEach(async () => {
    before = await lockedBaseline();
    writeConfig([...GRANTS, { project: "acme/platform/team-0/infra", branches: ["main"] }]);
  });
  afterEach(() => {
    expect(readFileSync(lockFile)).toEqual(before);
    expect(readdirSync(dir).sort()).toEqual(["gitlab-oidc.lock.yaml", "gitlab-oidc.yaml"]);
  });

  test("GIVEN a token GitLab refuses (and echoes in its error body) WHEN resolved THEN exit 2, 401 named with the fix, the token redacted", async () => {
    standIn.options = { echoTokenInErrors: true };
    const run = await resolve([], { GITLAB_TOKEN: "glpat-wrong-and-secret" });
    expect(run.code).toBe(EXIT_ERROR);
    expect(run.stderr).toMatch(/GitLab answered 401 Unauthorized/);
    expect(run.stderr).toMatch(/GITLAB_TOKEN is set but GitLab refuses it.*read_api/);
    expect(run.stderr).toMatch(/Nothing was written; .*gitlab-oidc\.lock\.yaml is unchanged/);
    expect(run.stderr).toContain("[REDACTED]");
    expect(run.stdout + run.stderr).not.toContain("glpat-wrong-and-secret");
  });

  test("GIVEN an instance that requires sign-in and no token WHEN resolved THEN exit 2 saying to set GITLAB_TOKEN with read_api", async () => {
    standIn.options = { requireAuth: true };
    const run = await resolve([], { GITLAB_TOKEN: undefined });
    expect(run.code).toBe(EXIT_ERROR);
    expect(run.stderr).toMatch(
      /project acme\/api: GitLab answered 401 Unauthorized \("401 Unauthorized"\)\. Set GITLAB_TOKEN to a token with the read_api scope/,
    );
  });

  test("GIVEN a token without read_api WHEN resolved THEN exit 2 naming the scope", async () => {
    standIn.addToken("glpat-user-only", { user: "ci-bot", scopes: ["read_user"] });
    const run = await resolve([], { GITLAB_TOKEN: "glpat-user-only" });
    expect(run.code).toBe(EXIT_ERROR);
    expect(run.stderr).toMatch(/403 Forbidden.*lacks the read_api scope/);
  });

  test("GIVEN paths that do not exist WHEN resolved THEN exit 2 naming each, and the check says the same", async () => {
    writeConfig([
      ...GRANTS,
      { project: "acme/nope", branches: ["main"] },
      { group: "ghost", branches: ["main"] },
    ]);
    const run = await resolve();
    expect(run.code).toBe(EXIT_ERROR);
    expect(run.stderr).toMatch(
      /project acme\/nope: GitLab answered 404 Not Found \("404 Project Not Found"\): no such path, or the token's user cannot see it\. Check the path in .*gitlab-oidc\.yaml/,
    );
    expect(run.stderr).toMatch(
      /group ghost: GitLab answered 404 Not Found \("404 Group Not Found"\).*personal namespace is not a group/,
    );
    expect(run.stderr).toMatch(/2 path\(s\) did not resolve; nothing was written/);
  });

  test("GIVEN a private project and no token WHEN resolved THEN the 404 says it may be private and to set GITLAB_TOKEN", async () => {
    standIn.addGroup("closed", { id: 4000, visibility: "private", members: ["ci-bot"] });
    standIn.addProject("closed/app", { id: 4001, visibility: "private" });
    writeConfig([...GRANTS, { project: "closed/app", branches: ["main"] }]);
    const run = await resolve([], { GITLAB_TOKEN: undefined });
    expect(run.code).toBe(EXIT_ERROR);
    expect(run.stderr).toMatch(/project closed\/app: .*404.*private or internal and GITLAB_TOKEN is not set/);
  });

  test("GIVEN rate limiting with Retry-After: 2 WHEN resolved THEN it waits 2 s as asked and succeeds", async () => {
    // This test's afterEach expects the old lock: succeed with the old config instead.
    writeConfig(GRANTS);
    standIn.throttle(2, "2");
    const run = await resolve();
    expect(run.code).toBe(EXIT_CURRENT);
    expect(run.waits).toEqual([2000, 2000]);
  });

  test("GIVEN Retry-After as an HTTP date WHEN resolved THEN it waits until then (bounded)", async () => {
    writeConfig(GRANTS);
    // GIVEN a date on a whole second (what an HTTP date can say), 20 s ahead
    const until = Math.ceil((Date.now() + 20_000) / 1000) * 1000;
    standIn.throttle(1, new Date(until).toUTCString());
    // WHEN resolved (however slowly: the clock is read before and after)
    const before = Date.now();
    const run = await resolve();
    const after = Date.now();
    // THEN it waited from the moment it read the answer until that date, once
    expect(run.code).toBe(EXIT_CURRENT);
    expect(run.waits).toHaveLength(1);
    expect(run.waits[0]).toBeGreaterThanOrEqual(until - after);
    expect(run.waits[0]).toBeLessThanOrEqual(until - before);
  });

  test("GIVEN rate limiting that does not end WHEN resolved THEN 3 retries, then exit 2 naming 429 and what to do", async () => {
    standIn.throttle(100, "1");
    const run = await resolve();
    expect(run.code).toBe(EXIT_ERROR);
    expect(run.waits).toEqual([1000, 1000, 1000]);
    expect(run.stderr).toMatch(
      /GitLab answered 429 Too Many Requests \(still rate limited after 3 retries\)\. Try again in a few minutes/,
    );
  });

  test("GIVEN a Retry-After longer than a minute WHEN resolved THEN it fails at once instead of hanging", async () => {
    standIn.throttle(1, "3600");
    const run = await resolve();
    expect(run.code).toBe(EXIT_ERROR);
    expect(run.waits).toEqual([]);
    expect(run.stderr).toMatch(/429 Too Many Requests \(GitLab asks to wait 3600 s, longer than 60 s\)/);
  });

  test("GIVEN passing 5xx errors WHEN resolved THEN retried with backoff; GIVEN lasting ones THEN exit 2 after 3 retries", async () => {
    writeConfig(GRANTS);
    standIn.fail(2, 502);
    const passing = await resolve();
    expect(passing.code).toBe(EXIT_CURRENT);
    expect(passing.waits).toEqual([10, 20]);

    standIn.fail(100, 500);
    const lasting = await resolve();
    expect(lasting.code).toBe(EXIT_ERROR);
    expect(lasting.stderr).toMatch(/GitLab answered 500 .* after 3 retries\. Try again later/);
  });

  test("GIVEN nothing listening on the API's port WHEN resolved THEN exit 2: cannot reach, with the URL to check", async () => {
    const port = await freePort();
    const run = await resolve([], { GITLAB_API_URL: `http://127.0.0.1:${port}/api/v4` });
    expect(run.code).toBe(EXIT_ERROR);
    expect(run.stderr).toMatch(
      new RegExp(
        `project acme/api: cannot reach http://127.0.0.1:${port} \\(ECONNREFUSED\\)\\. Check gitlab\\.url in .*GITLAB_API_URL`,
      ),
    );
  });

  test("GIVEN a GitLab that does not answer in time WHEN resolved THEN exit 2 after the timeout", async () => {
    // GIVEN a GitLab that answers after 1 s, and a client that waits 0.1 s (a short deadline, so that the
    // test does not wait out a real one; the answer comes ten times later, however loaded the machine)
    standIn.options = { delayMs: 1000 };
    // WHEN resolved
    const run = await resolve([], {}, 100);
    // THEN it gives up, saying after how long
    expect(run.code).toBe(EXIT_ERROR);
    expect(run.stderr).toMatch(/no answer from http:\/\/127\.0\.0\.1:\d+ within 0\.1 s/);
  });

  test("GIVEN a GITLAB_API_URL over plain http to a remote host WHEN resolved THEN refused before any request", async () => {
    const requests = standIn.requests.length;
    const run = await resolve([], { GITLAB_API_URL: "http://gitlab.example.com/api/v4" });
    expect(run.code).toBe(EXIT_ERROR);
    expect(run.stderr).toMatch(/must use https:\/\//);
    expect(standIn.requests).toHaveLength(requests);
  });
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe("npm run resolve: what reaches the lock file and the terminal", () => {
  test("GIVEN a write interrupted half-way WHEN resolve rewrites the lock THEN the old lock is intact, exit 2 with a message", async () => {
    // GIVEN a current lock, and a config that needs one more project
    const before = await lockedBaseline();
    writeConfig([...GRANTS, { project: "acme/platform/team-0/infra", branches: ["main"] }]);
    // … and a disk that fails after writing the first bytes of any file
    let writes = 0;
    const files = {
      writeFileSync: (file: string, text: string) => {
        writes++;
        writeFileSync(file, text.slice(0, 25));
        throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
      },
      renameSync,
      rmSync,
    };
    // WHEN resolve rewrites the lock
    const run = await resolveWith({}, files);
    // THEN the lock is byte for byte what it was (a write in place would have left 25 bytes), and no temp file is left
    expect(writes).toBe(1);
    expect(readFileSync(lockFile)).toEqual(before);
    expect(readdirSync(dir).sort()).toEqual(["gitlab-oidc.lock.yaml", "gitlab-oidc.yaml"]);
    expect(run.code).toBe(EXIT_ERROR);
    expect(run.stderr).toMatch(/cannot write .*gitlab-oidc\.lock\.yaml: ENOSPC.*It is unchanged\./);
  });

  test("GIVEN a lock already current but written by hand WHEN resolved THEN it says there are no changes", async () => {
    await lockedBaseline();
    // A hand-written lock with the same IDs, in another order and style
    const lock = parseLock(readFileSync(lockFile, "utf8"), lockFile);
    writeFileSync(lockFile, stringify({ groups: lock.groups, projects: lock.projects }));
    const run = await resolve();
    expect(run.code).toBe(EXIT_CURRENT);
    expect(run.stdout).toMatch(/no changes to its IDs/);
    expect(run.stdout).not.toMatch(/review them|above/);
  });

  test("GIVEN GitLab answering 429 with Retry-After WHEN resolved THEN each wait is announced on stderr", async () => {
    let busy = 2;
    const fetch = (async (url: URL | string, init: RequestInit) => {
      if (busy-- > 0) return new Response("{}", { status: 429, headers: { "retry-after": "12" } });
      return globalThis.fetch(url, init);
    }) as typeof globalThis.fetch;
    const run = await resolveWith({ fetch });
    expect(run.code).toBe(EXIT_CURRENT);
    expect(run.stderr).toMatch(
      /GitLab answered 429 for .*; waiting 12 s, then attempt 2 of 4…\n.*waiting 12 s, then attempt 3 of 4…/,
    );
  });

  test("GIVEN control characters in GitLab's answer WHEN printed THEN they are escaped, never sent to the terminal", async () => {
    // GIVEN GitLab spelling acme/web with an escape sequence that would clear the screen and set the title
    const hostile = "acme/web\u001b[2J\u001b]0;owned\u0007\u009b6n";
    const fetch = (async (url: URL | string, init: RequestInit) => {
      const response = await globalThis.fetch(url, init);
      if (!String(url).endsWith("/projects/acme%2Fweb")) return response;
      const body = (await response.json()) as Record<string, unknown>;
      return new Response(JSON.stringify({ ...body, path_with_namespace: hostile }), { status: 200 });
    }) as typeof globalThis.fetch;
    // WHEN resolve reports the spelling
    const run = await resolveWith({ fetch });
    // THEN the path is shown with its control characters escaped, the lock refused
    expect(run.code).toBe(EXIT_ERROR);
    expect(run.stderr).toContain(String.raw`acme/web\u001b[2J\u001b]0;owned\u0007\u009b6n`);
    // eslint-disable-next-line no-control-regex -- control characters are what must not appear
    expect(run.stdout + run.stderr).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f]/);
    expect(existsSync(lockFile)).toBe(false);
  });
});

/** resolve with extra API options (a fetch wrapper), recording what it prints. */
async function resolveWith(api: { fetch?: typeof globalThis.fetch }, files?: LockFileOps): Promise<Run> {
  let stdout = "";
  let stderr = "";
  const code = await runResolve([], {
    env: { GITLAB_OIDC_CONFIG: configFile, GITLAB_API_URL: standIn.apiUrl, GITLAB_TOKEN: TOKEN },
    io: { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text) },
    api: { sleep: async () => undefined, backoffMs: 10, timeoutMs: 2000, ...api },
    ...(files ? { files } : {}),
  });
  return { code, stdout, stderr, waits: [] };
}
