/**
 * `npm run resolve` on the granted projects' own settings (issue 24), in process against the GitLab API
 * stand-in: which projects' `ci_id_token_sub_claim_components` differ from `gitlab.subClaim` (and the
 * API call that sets them), `--apply-sub-claim` setting them (permission errors included), and
 * `--check` warning about granted branch/tag patterns that no protected ref matches.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { EXIT_CURRENT, EXIT_ERROR, runResolve } from "../src/gitlab/cli";
import { parseLock } from "../src/gitlab/lock";
import { patternsOverlap } from "../src/gitlab/project-checks";
import { minimalConfig } from "./support/configs";
import { GitLabApiStandIn, type StandInOptions } from "./support/gitlab-api-stand-in";

const MAINTAINER = "glpat-maintainer-api";
const MAINTAINER_READ_ONLY = "glpat-maintainer-read";
const DEVELOPER = "glpat-developer";
const WANTED = ["project_path", "ref_type", "ref", "environment_protected", "deployment_tier"];

let standIn: GitLabApiStandIn;
let dir: string;
let configFile: string;

/** acme/web (ci-bot maintains it), acme/api (ci-bot does not), acme/platform with two projects. */
async function startGitLab(options: StandInOptions = {}) {
  standIn = await GitLabApiStandIn.start(options);
  standIn.addToken(MAINTAINER, { user: "ci-bot", scopes: ["api"] });
  standIn.addToken(MAINTAINER_READ_ONLY, { user: "ci-bot", scopes: ["read_api"] });
  standIn.addToken(DEVELOPER, { user: "dev" });
  standIn.addGroup("acme", { id: 2001 });
  standIn.addProject("acme/web", { id: 1001, maintainers: ["ci-bot"], protectedTags: ["v*"] });
  standIn.addProject("acme/api", { id: 1002 });
  standIn.addGroup("acme/platform", { id: 2002 });
  standIn.addProject("acme/platform/infra", {
    id: 1003,
    maintainers: ["ci-bot"],
    protectedBranches: ["main"],
  });
  standIn.addProject("acme/platform/docs", {
    id: 1004,
    maintainers: ["ci-bot"],
    protectedBranches: ["main", "stable/*"],
  });
}

function writeConfig(allow: unknown[], subClaim: string[] | undefined = WANTED) {
  const raw = minimalConfig({ allow });
  writeFileSync(
    configFile,
    stringify({ ...raw, gitlab: { url: "https://gitlab.com", ...(subClaim ? { subClaim } : {}) } }),
  );
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "resolve-settings-"));
  configFile = join(dir, "gitlab-oidc.yaml");
  writeConfig([
    { project: "acme/web", branches: ["main"], environments: { tiers: ["production"] } },
    { project: "acme/api", tags: ["v*"] },
  ]);
  await startGitLab();
});
afterEach(async () => {
  await standIn.close();
  rmSync(dir, { recursive: true, force: true });
});

/** `token` null: no GITLAB_TOKEN at all. */
async function resolve(args: string[], token: string | null = MAINTAINER) {
  let stdout = "";
  let stderr = "";
  const code = await runResolve(args, {
    env: { GITLAB_OIDC_CONFIG: configFile, GITLAB_API_URL: standIn.apiUrl, GITLAB_TOKEN: token ?? undefined },
    io: { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text) },
    api: { sleep: async () => undefined, backoffMs: 1, timeoutMs: 2000 },
  });
  return { code, stdout, stderr };
}

describe("sub claim components", () => {
  test("GIVEN a project whose setting differs WHEN resolved THEN it is reported with the exact API call, and GitLab is unchanged", async () => {
    const run = await resolve([]);
    expect(run.code).toBe(EXIT_CURRENT);
    expect(run.stdout).toContain(
      "warning: project acme/web: ci_id_token_sub_claim_components is [project_path, ref_type, ref], gitlab.subClaim is [project_path, ref_type, ref, environment_protected, deployment_tier]",
    );
    expect(run.stdout).toContain(
      `curl --fail-with-body --request PUT --header "PRIVATE-TOKEN: $GITLAB_TOKEN" --header 'Content-Type: application/json' ` +
        `--data '{"ci_id_token_sub_claim_components":["project_path","ref_type","ref","environment_protected","deployment_tier"]}' '${standIn.apiUrl}/projects/1001'`,
    );
    // AND a project the token may not administer is named once as not checked, not as fine
    expect(run.stdout).toContain("note: could not read the sub claim components of acme/api");
    expect(run.stdout).toContain("Maintainer");
    // AND nothing was set in GitLab
    expect(standIn.subClaimOf("acme/web")).toEqual(["project_path", "ref_type", "ref"]);
    expect(standIn.requests.every((r) => !r.url.endsWith("/projects/1001") || r.token === MAINTAINER)).toBe(
      true,
    );
    // AND the lock is written as before
    expect(
      parseLock(readFileSync(join(dir, "gitlab-oidc.lock.yaml"), "utf8"), "lock").projects["acme/web"],
    ).toEqual({
      id: 1001,
      namespaceId: 2001,
    });
  });

  test("GIVEN --apply-sub-claim and a Maintainer's api token THEN the setting is PUT, and the next run finds nothing to report", async () => {
    writeConfig([{ project: "acme/web", branches: ["main"], environments: { tiers: ["production"] } }]);
    const run = await resolve(["--apply-sub-claim"]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(EXIT_CURRENT);
    expect(run.stdout).toContain(
      "set acme/web: ci_id_token_sub_claim_components [project_path, ref_type, ref] -> [project_path, ref_type, ref, environment_protected, deployment_tier]",
    );
    expect(standIn.subClaimOf("acme/web")).toEqual(WANTED);
    const again = await resolve([]);
    expect(again.stdout).not.toContain("ci_id_token_sub_claim_components is");
  });

  test.each([
    [
      "a read_api token",
      MAINTAINER_READ_ONLY,
      "needs the Maintainer role on the project and a token with the api scope",
    ],
  ])(
    "GIVEN --apply-sub-claim with %s THEN a clear error, exit 2, the lock still written",
    async (_what, token, message) => {
      writeConfig([{ project: "acme/web", branches: ["main"], environments: { tiers: ["production"] } }]);
      const run = await resolve(["--apply-sub-claim"], token);
      expect(run.code).toBe(EXIT_ERROR);
      expect(run.stderr).toContain("could not set the sub claim components of acme/web");
      expect(run.stderr).toContain(message);
      expect(standIn.subClaimOf("acme/web")).toEqual(["project_path", "ref_type", "ref"]);
      expect(readFileSync(join(dir, "gitlab-oidc.lock.yaml"), "utf8")).toContain("acme/web");
    },
  );

  test("GIVEN --apply-sub-claim and a project the token cannot administer THEN it is named as not set, exit 2", async () => {
    const run = await resolve(["--apply-sub-claim"]);
    expect(run.code).toBe(EXIT_ERROR);
    expect(standIn.subClaimOf("acme/web")).toEqual(WANTED);
    expect(run.stderr).toContain("not set: acme/api");
  });

  test("GIVEN a GitLab older than 18.7 THEN the refusal says which components it accepts", async () => {
    await standIn.close();
    await startGitLab({ allowedSubClaimComponents: ["project_path", "ref_type", "ref"] });
    writeConfig([{ project: "acme/web", branches: ["main"], environments: { tiers: ["production"] } }]);
    const run = await resolve(["--apply-sub-claim"]);
    expect(run.code).toBe(EXIT_ERROR);
    expect(run.stderr).toContain("environment_protected is not an allowed sub claim component");
    expect(run.stderr).toContain("GitLab before 18.7 accepts only project_path, ref_type and ref");
  });

  test("GIVEN a group grant THEN a sample of its projects is reported, and --apply-sub-claim leaves them to the user", async () => {
    writeConfig([
      { project: "acme/web", branches: ["main"], environments: { tiers: ["production"] } },
      { group: "acme/platform", branches: ["main"], environments: { tiers: ["production"] } },
    ]);
    const run = await resolve(["--apply-sub-claim"]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(EXIT_CURRENT);
    expect(run.stdout).toContain(
      "warning: project acme/platform/infra (below granted group acme/platform, sampled): ci_id_token_sub_claim_components is [project_path, ref_type, ref]",
    );
    expect(run.stdout).toContain(`'${standIn.apiUrl}/projects/1003'`);
    expect(standIn.subClaimOf("acme/web")).toEqual(WANTED);
    expect(standIn.subClaimOf("acme/platform/infra")).toEqual(["project_path", "ref_type", "ref"]);
  });

  test("GIVEN --check and --apply-sub-claim together THEN a usage error before any request", async () => {
    const run = await resolve(["--check", "--apply-sub-claim"]);
    expect(run.code).toBe(EXIT_ERROR);
    expect(run.stderr).toContain("give one of them");
    expect(standIn.requests).toHaveLength(0);
  });
});

describe("protected refs (--check)", () => {
  beforeEach(async () => {
    writeConfig(
      [
        { project: "acme/web", branches: ["main", "release/*"], tags: ["v*", "nightly-*"] },
        { project: "acme/web", branches: ["feature/*"], protected: false },
        { group: "acme/platform", branches: ["stable/1.x", "hotfix/*"] },
      ],
      undefined,
    );
    expect((await resolve([])).code).toBe(EXIT_CURRENT);
    standIn.requests.length = 0;
  });

  test("GIVEN a Maintainer's token THEN each pattern no protected ref matches is a warning with its path and pattern", async () => {
    const run = await resolve(["--check"]);
    expect(run.code).toBe(EXIT_CURRENT);
    const warnings = run.stdout.split("\n").filter((line) => line.includes("matches no protected"));
    expect(
      warnings.map((line) => /^warning: (\S+) \((\w+ \S+)\): (\w+) pattern "([^"]+)"/.exec(line)?.slice(1)),
    ).toEqual([
      ["accounts[0].roles[0].allow[0]", "project acme/web", "branch", "release/*"],
      ["accounts[0].roles[0].allow[0]", "project acme/web", "tag", "nightly-*"],
      ["accounts[0].roles[0].allow[2]", "group acme/platform", "branch", "hotfix/*"],
    ]);
    // THEN a group is judged on a sample of its projects, and says so
    expect(warnings[2]).toContain("a sample of 2 of its most recently active projects");
    // AND main (protected), v* (a protected tag pattern), stable/1.x (inside stable/*) and the
    // protected: false grant are not warned about
    expect(run.stdout).not.toContain('"feature/*"');
    expect(run.stdout).not.toContain("could not check");
  });

  test.each([
    ["no token", null, "no GITLAB_TOKEN"],
    ["a developer's token", DEVELOPER, "403 Forbidden"],
  ])("GIVEN %s THEN it says once that it could not check", async (_what, token, reason) => {
    const run = await resolve(["--check"], token);
    expect(run.code).toBe(EXIT_CURRENT);
    const notes = run.stdout
      .split("\n")
      .filter((line) => line.includes("could not check protected branches and tags"));
    expect(notes).toHaveLength(1);
    expect(notes[0]).toContain(reason);
    expect(run.stdout).not.toContain("matches no protected");
  });
});

describe("patternsOverlap: do a granted pattern and a protected ref wildcard share a name?", () => {
  test.each([
    ["main", "main", true],
    ["main", "*", true],
    ["release/*", "release/*", true],
    ["release/1.x", "release/*", true],
    ["release/*", "release/1.x", true],
    ["release/*", "releases", false],
    ["v?.*", "v1.2", true],
    ["v*", "1.*", false],
    ["*-stable", "1-*", true],
    ["main", "Main", false],
    ["a?c", "ab", false],
  ])("%s vs %s: %s", (granted, protectedRef, expected) => {
    expect(patternsOverlap(granted, protectedRef)).toBe(expected);
    expect(patternsOverlap(protectedRef, granted)).toBe(expected);
  });
});
