/**
 * `explain`: would this job get the role, and if not, which part of its claims differs. The function
 * (explainAccess) is tested on stacks synthesized from a config and read back. The CLI, spawned as
 * `npm run explain` runs it, is tested in test/e2e/explain-cli.test.ts.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { loadConfigFile } from "../src/config/load";
import { synthesize } from "../src/synth";
import { formatSubject } from "../src/model/subjects";
import { DEFAULT_SUB_CLAIM } from "../src/model/claims";
import {
  explainAccess,
  jobClaims,
  NoRoleSelectedError,
  subjectDifferences,
  type ExplainResult,
} from "../src/explain/explain";
import {
  EXIT_ALLOWED,
  EXIT_DENIED,
  EXIT_ERROR,
  EXIT_USAGE,
  parseArguments,
  runCli,
  UsageError,
} from "../src/explain/cli";
import { decodeTokenClaims, TokenError } from "../src/explain/token";
import type { SynthesizedStack } from "../src/terraform/synthesized-stacks";
import {
  FIXTURE_SUBGROUP_IDS,
  makeTokens,
  synthesizeFixture,
  type ExplainFixture,
} from "./support/explain-fixture";

let fixture: ExplainFixture;
let stacks: SynthesizedStack[];
/** A release-branch pipeline of acme/web. */
let releaseToken: string;

beforeAll(async () => {
  fixture = await synthesizeFixture();
  stacks = fixture.stacks;
  [releaseToken] = makeTokens([
    {
      iss: "https://gitlab.com",
      sub: formatSubject("acme/web", "branch", "release/2.0"),
      aud: "https://gitlab.com",
      project_path: "acme/web",
      ref_protected: "false",
    },
  ]);
}, 60_000);
afterAll(() => fixture?.cleanup());

/**
 * A protected push pipeline of `project` on a ref, its claims as GitLab mints them: IDs from the
 * fixture's lock; a project deeper below acme/platform sits in one of its locked subgroups.
 */
function job(project: string, refType: "branch" | "tag", ref: string, stated: Record<string, string> = {}) {
  const inSubgroup: Record<string, string> = /^acme\/platform\/[^/]+\/.+/.test(project)
    ? { namespace_id: String(FIXTURE_SUBGROUP_IDS[0]) }
    : {};
  return jobClaims(
    { project, refType, ref },
    { ref_protected: "true", pipeline_source: "push", ...inSubgroup, ...stated },
    DEFAULT_SUB_CLAIM,
    fixture.config.lock,
  );
}
const branch = (project: string, name: string) => job(project, "branch", name);
const tag = (project: string, name: string) => job(project, "tag", name);
const verdict = (result: ExplainResult, stack: string, role: string) => {
  const found = result.roles.find((v) => v.stack === stack && v.role === role);
  if (!found) throw new Error(`no verdict for ${stack}/${role}`);
  return found;
};
const parts = (result: ExplainResult, stack: string, role: string) =>
  verdict(result, stack, role).closest?.differences.map((d) => d.part);

describe("explainAccess", () => {
  test("allowed: names the statement and the grant that matched", () => {
    // GIVEN a pipeline of acme/web on main
    // WHEN it is explained against every role
    const result = explainAccess(stacks, { ...branch("acme/web", "main") });
    // THEN production/deploy and staging/preview allow it, by the exact and the wildcard grant
    const deploy = verdict(result, "production", "deploy");
    expect(deploy).toMatchObject({ allowed: true, decision: "Allow", audience: "sts.amazonaws.com" });
    expect(deploy.matched).toMatchObject({
      sid: expect.stringMatching(/^Project\d+Exact$/),
      operator: "StringEquals",
      subValue: "project_path:acme/web:ref_type:branch:ref:main",
      grant: { scope: "project", path: "acme/web", refType: "branch", ref: "main" },
    });
    expect(verdict(result, "staging", "preview").matched).toMatchObject({
      sid: expect.stringMatching(/^Project\d+Wildcard$/),
      subValue: "project_path:acme/web:ref_type:branch:ref:*",
    });
    // … and the admin role, granted to another project only, does not
    expect(verdict(result, "production", "admin").allowed).toBe(false);
    expect(result.allowed).toBe(true);
    expect(result.claims).toEqual({ projectPath: "acme/web", refType: "branch", ref: "main" });
  });

  test("a group grant allows projects below the group at any depth", () => {
    // GIVEN a tag pipeline of a project three levels below acme/platform
    const result = explainAccess(stacks, { ...tag("acme/platform/a/b/c", "v2.0.1"), role: "deploy" });
    // THEN the group grant matched it
    expect(verdict(result, "production", "deploy").matched?.grant).toMatchObject({
      scope: "group",
      path: "acme/platform",
      refType: "tag",
      ref: "v*",
    });
  });

  test("a project in a subgroup given by path only: the missing namespace ID is named as unknown, and stating it allows", () => {
    // GIVEN a tag pipeline of a project in a subgroup of acme/platform, as --project gives it: the lock has
    // acme/platform's subgroups by ID only, so explain cannot know the job's namespace_id
    const byPath = jobClaims(
      { project: "acme/platform/team/svc", refType: "tag", ref: "v2.0.1" },
      { ref_protected: "true", pipeline_source: "push" },
      DEFAULT_SUB_CLAIM,
      fixture.config.lock,
    );
    // WHEN explained
    const denied = verdict(explainAccess(stacks, { ...byPath, role: "deploy" }), "production", "deploy");
    // THEN the one difference says the ID is unknown and how to state it, not that the project is outside
    // the group (a subgroup newer than the lock, a recycled path), which would send the reader astray
    expect(denied.allowed).toBe(false);
    expect(denied.closest?.differences).toEqual([
      expect.objectContaining({ part: "condition", message: expect.stringMatching(/--namespace-id/) }),
    ]);
    expect(denied.closest?.differences[0].message).not.toMatch(/not in the granted group/);
    // … and with the subgroup's ID stated, as the real token carries it, the job is allowed
    const stated = { ...byPath, claims: { ...byPath.claims, namespace_id: String(FIXTURE_SUBGROUP_IDS[1]) } };
    expect(
      verdict(explainAccess(stacks, { ...stated, role: "deploy" }), "production", "deploy").allowed,
    ).toBe(true);
  });

  test("denied, wrong project: the closest grant and only the project differs", () => {
    // GIVEN acme/api, a project no role trusts, on main
    const result = explainAccess(stacks, { ...branch("acme/api", "main"), account: "production" });
    // THEN deploy is denied; the closest grant is acme/web's main, and the project path and ID differ
    const deploy = verdict(result, "production", "deploy");
    expect(deploy.allowed).toBe(false);
    expect(deploy.decision).toBe("ImplicitDeny");
    expect(deploy.closest?.subValue).toBe("project_path:acme/web:ref_type:branch:ref:main");
    expect(deploy.closest?.differences).toEqual([
      expect.objectContaining({ part: "project", expected: "acme/web", actual: "acme/api" }),
      expect.objectContaining({
        part: "condition",
        message: expect.stringMatching(/no gitlab\.com:project_id/),
      }),
    ]);
    expect(result.allowed).toBe(false);
  });

  test("denied, sibling namespace acme/platform-evil: not below the group, and said so", () => {
    // GIVEN a project in acme/platform-evil, which starts like the granted group acme/platform
    const result = explainAccess(stacks, { ...tag("acme/platform-evil/x", "v1.0.0") });
    // THEN no role allows it; deploy's closest grant is the group's, differing in the project path and
    // in the namespace ID (which the lock cannot name for acme/platform-evil: it says so)
    expect(result.allowed).toBe(false);
    const deploy = verdict(result, "production", "deploy");
    expect(deploy.closest?.grant).toMatchObject({ scope: "group", path: "acme/platform" });
    expect(deploy.closest?.differences.map((d) => d.part)).toEqual(["project", "condition"]);
    expect(deploy.closest?.differences[0]).toMatchObject({ part: "project", actual: "acme/platform-evil/x" });
    expect(deploy.closest?.differences[0].message).toMatch(/sibling namespace/);
    expect(deploy.closest?.differences[1].message).toMatch(/no gitlab\.com:namespace_id.*unknown here/);
    // … staging's anyRef group grant does not let it in either
    expect(parts(result, "staging", "preview")).toEqual(["project", "condition"]);
  });

  test("denied, the group itself is not a project below it", () => {
    const result = explainAccess(stacks, { ...tag("acme/platform", "v1"), role: "deploy" });
    expect(verdict(result, "production", "deploy").closest?.differences[0].message).toMatch(
      /the group itself/,
    );
  });

  test("when the closest grant is another project's, the closest one for the job's project is shown too", () => {
    // GIVEN a tag pipeline of acme/web whose namespace is the platform group's (as after a transfer): one
    // difference from the group's tag grant (the path), two from acme/web's branches (ref type and ref)
    const job = tag("acme/web", "v1.2.0");
    const groupId = String(fixture.config.lock?.groups["acme/platform"].id);
    const result = explainAccess(stacks, {
      ...job,
      claims: { ...job.claims, namespace_id: groupId },
      role: "deploy",
    });
    const deploy = verdict(result, "production", "deploy");
    // THEN the closest is the group's grant, and acme/web's own nearest grant comes with its differences
    expect(deploy.closest?.grant).toMatchObject({ scope: "group", path: "acme/platform" });
    expect(deploy.closestForProject?.grant).toMatchObject({ scope: "project", path: "acme/web" });
    expect(deploy.closestForProject?.differences.map((d) => d.part)).toEqual(["refType", "ref"]);
    // … and not when the closest grant already covers the project
    const sameProject = explainAccess(stacks, { ...branch("acme/web", "feature/x"), role: "deploy" });
    expect(verdict(sameProject, "production", "deploy").closestForProject).toBeUndefined();
  });

  test("denied, wrong ref type: a tag named like an allowed branch", () => {
    // GIVEN a tag called main (the grant is for the branch main)
    const result = explainAccess(stacks, { ...tag("acme/web", "main"), role: "deploy" });
    // THEN only the ref type differs
    const deploy = verdict(result, "production", "deploy");
    expect(deploy.closest?.subValue).toBe("project_path:acme/web:ref_type:branch:ref:main");
    expect(deploy.closest?.differences).toEqual([
      expect.objectContaining({ part: "refType", expected: "branch", actual: "tag" }),
    ]);
  });

  test("denied, ref pattern mismatch: a branch outside main and release/*", () => {
    // GIVEN a feature branch, and a branch that only resembles release/*
    for (const name of ["feature/login", "release", "releases/1.0"]) {
      const result = explainAccess(stacks, { ...branch("acme/web", name), role: "deploy" });
      // THEN exactly the ref differs, reported with the branch's name
      const deploy = verdict(result, "production", "deploy");
      expect(deploy.allowed).toBe(false);
      expect(deploy.closest?.differences).toEqual([expect.objectContaining({ part: "ref", actual: name })]);
      expect(deploy.closest?.differences[0].message).toContain(`branch "${name}"`);
    }
    // … while a real release branch, with a slash in the part * matches, is allowed
    expect(explainAccess(stacks, { ...branch("acme/web", "release/1.2/rc"), role: "deploy" }).allowed).toBe(
      true,
    );
  });

  test("denied, wrong audience: only the audience differs", () => {
    // GIVEN the right sub with an aud the roles do not accept
    const result = explainAccess(stacks, {
      ...branch("acme/web", "main"),
      audiences: ["https://gitlab.com"],
    });
    // THEN every role is denied; deploy's closest grant matches the sub and names the audience
    expect(result.allowed).toBe(false);
    const deploy = verdict(result, "production", "deploy");
    expect(deploy.closest?.subValue).toBe("project_path:acme/web:ref_type:branch:ref:main");
    expect(deploy.closest?.differences).toEqual([
      expect.objectContaining({
        part: "audience",
        expected: "sts.amazonaws.com",
        actual: "https://gitlab.com",
      }),
    ]);
  });

  test("several audiences: allowed when any is accepted", () => {
    const result = explainAccess(stacks, {
      ...branch("acme/web", "main"),
      audiences: ["https://gitlab.com", "sts.amazonaws.com"],
      role: "deploy",
    });
    expect(verdict(result, "production", "deploy")).toMatchObject({
      allowed: true,
      audience: "sts.amazonaws.com",
    });
  });

  test("denied, wrong operator: a wildcard under StringEquals is compared literally", () => {
    // GIVEN a hand-written trust policy that puts a wildcard value under StringEquals
    const stack = stacks[0];
    const broken: SynthesizedStack = {
      ...stack,
      roles: [
        {
          ...stack.roles[0],
          name: "broken",
          trustPolicy: {
            Version: "2012-10-17",
            Statement: [
              {
                Effect: "Allow",
                Action: ["sts:AssumeRoleWithWebIdentity"],
                Principal: { Federated: [stack.providerReference] },
                Condition: {
                  StringEquals: {
                    "gitlab.com:aud": ["sts.amazonaws.com"],
                    "gitlab.com:sub": ["project_path:acme/web:ref_type:branch:ref:release/*"],
                  },
                },
              },
            ],
          },
        },
      ],
    };
    // WHEN a release branch is explained
    const result = explainAccess([broken], { ...branch("acme/web", "release/1.0") });
    // THEN the operator is the difference
    expect(result.roles[0].closest?.differences).toEqual([
      expect.objectContaining({ part: "operator", expected: expect.stringContaining("StringLike") }),
    ]);
    expect(
      subjectDifferences(
        "StringEquals",
        "project_path:a/b:ref_type:*",
        "project_path:a/b:ref_type:tag:ref:x",
      ),
    ).toEqual([expect.objectContaining({ part: "operator" })]);
  });

  test("a statement trusting another provider is denied on the principal", () => {
    const stack = stacks[0];
    const other: SynthesizedStack = {
      ...stack,
      providerReference: "${aws_iam_openid_connect_provider.other.arn}",
    };
    const result = explainAccess([other], { ...branch("acme/web", "main"), role: "deploy" });
    expect(result.roles[0].closest?.differences.map((d) => d.part)).toEqual(["principal"]);
  });

  test("a token from another issuer is refused before any trust policy", () => {
    const result = explainAccess(stacks, {
      ...branch("acme/web", "main"),
      issuer: "https://gitlab.example.com",
    });
    expect(result.allowed).toBe(false);
    expect(result.roles.every((v) => v.decision === "WrongIssuer")).toBe(true);
    expect(parts(result, "production", "deploy")).toEqual(["issuer"]);
    // … while the right issuer (with or without a trailing slash) changes nothing
    expect(
      explainAccess(stacks, { ...branch("acme/web", "main"), issuer: "https://gitlab.com/" }).allowed,
    ).toBe(true);
  });

  test("filters: --role and --account (name or id) select roles; unknown ones are usage errors", () => {
    const main = branch("acme/web", "main");
    expect(
      explainAccess(stacks, { ...main, role: "preview" }).roles.map((v) => `${v.stack}/${v.role}`),
    ).toEqual(["staging/preview"]);
    expect(
      explainAccess(stacks, { ...main, account: "111111111111" })
        .roles.map((v) => v.role)
        .sort(),
    ).toEqual(["admin", "deploy"]);
    expect(explainAccess(stacks, { ...main, account: "staging", role: "preview" }).roles).toHaveLength(1);
    expect(() => explainAccess(stacks, { ...main, role: "nope" })).toThrow(NoRoleSelectedError);
    expect(() => explainAccess(stacks, { ...main, role: "deploy", account: "staging" })).toThrow(
      /roles are: preview/,
    );
    expect(() => explainAccess(stacks, { ...main, account: "333333333333" })).toThrow(
      /production \(111111111111\)/,
    );
  });

  test("a sub in another format is still evaluated, and reported whole", () => {
    const result = explainAccess(stacks, { sub: "repo:acme/web:ref:refs/heads/main", role: "deploy" });
    expect(result.claims).toBeUndefined();
    // (and the claims AWS checks on gitlab.com are missing: no project_id, no ref_protected)
    expect(parts(result, "production", "deploy")).toEqual(["subject", "condition", "condition"]);
  });
});

describe("token decoding", () => {
  test("reads the payload of a signed JWT and never needs the key", () => {
    // GIVEN an RS256 token signed with a key nobody keeps
    // THEN its claims decode
    expect(decodeTokenClaims(`${releaseToken}\n`)).toMatchObject({
      sub: branch("acme/web", "release/2.0").sub,
      aud: "https://gitlab.com",
    });
    // … and anything else is refused clearly
    expect(() => decodeTokenClaims("not-a-token")).toThrow(TokenError);
    expect(() => decodeTokenClaims("a.%%%.c")).toThrow(/base64url/);
    expect(() => decodeTokenClaims(`a.${Buffer.from("[1]").toString("base64url")}.c`)).toThrow(/JSON object/);
  });
});

describe("argument parsing", () => {
  test("a pipeline becomes GitLab's sub; conflicting or missing job flags and unknown flags are usage errors", () => {
    expect(parseArguments(["--project", "acme/web", "--tag", "v1.2.0"]).sub).toBe(
      "project_path:acme/web:ref_type:tag:ref:v1.2.0",
    );
    expect(parseArguments(["--sub", "x", "--aud", "a", "--aud", "b"]).audiences).toEqual(["a", "b"]);
    expect(
      parseArguments(["--sub", "x", "--role", "arn:aws:iam::111111111111:role/gitlab/deploy"]),
    ).toMatchObject({
      role: "deploy",
      account: "111111111111",
    });
    for (const argv of [
      [],
      ["--project", "acme/web"],
      ["--branch", "main"],
      ["--project", "acme/web", "--branch", "main", "--tag", "v1"],
      ["--project", "acme/web", "--branch", "main", "--sub", "x"],
      ["--project", "web", "--branch", "main"],
      ["--sub", "x", "--frobnicate"],
      ["--sub", "x", "extra"],
      ["--sub", "x", "--role", "arn:aws:iam::111111111111:role/deploy", "--account", "staging"],
    ]) {
      expect(() => parseArguments(argv)).toThrow(UsageError);
    }
    expect(() => parseArguments(["--sub", "x", "--frobnicate"])).toThrow(/--frobnicate/);
  });
});

/**
 * One account `p` with the given gitlab settings and roles, and the lock beside it, synthesized to HCL
 * in a temporary directory; `explain` runs the CLI on it and collects its output.
 */
function explainSandbox(gitlab: Record<string, unknown>, roles: unknown[], lockYaml: string) {
  const root = mkdtempSync(join(tmpdir(), "explain-cli-"));
  writeFileSync(
    join(root, "gitlab-oidc.yaml"),
    stringify({ gitlab, accounts: [{ name: "p", accountId: "111111111111", region: "eu-west-1", roles }] }),
  );
  writeFileSync(join(root, "gitlab-oidc.lock.yaml"), lockYaml);
  const dir = join(root, "terraform");
  synthesize(loadConfigFile(join(root, "gitlab-oidc.yaml")), { outdir: dir, hcl: true });
  const out: string[] = [];
  const io = {
    stdout: (t: string) => out.push(t),
    stderr: (t: string) => out.push(t),
    readStdin: async () => "",
  };
  return {
    dir,
    /** Runs explain; returns its exit code and what it printed. */
    explain: async (argv: readonly string[]) => {
      out.length = 0;
      const code = await runCli([...argv, "--dir", dir], io);
      return { code, output: out.join("") };
    },
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}

describe("explain --project with a project_id-first sub", () => {
  test("a project below a granted group, which the lock does not name, needs --project-id; with it, the job is allowed", async () => {
    // GIVEN a config whose projects' sub starts with project_id, a group grant, and its lock
    const sandbox = explainSandbox(
      { url: "https://gitlab.com", subClaim: ["project_id", "ref_type", "ref"] },
      [{ name: "r", allow: [{ group: "acme/platform", tags: ["v*"] }] }],
      'groups:\n  "acme/platform": { id: 33, descendantIds: [44] }\n',
    );
    try {
      const job = ["--project", "acme/platform/svc", "--tag", "v1", "--protected"];
      // WHEN a tag pipeline of a project in the group is explained by path, without its ID
      const withoutId = await sandbox.explain(job);
      // THEN explain says it needs the ID (the sub GitLab mints carries it), instead of judging a sub
      // without one, which no real token has
      expect(withoutId.code).toBe(EXIT_USAGE);
      expect(withoutId.output).toContain("the lock names no ID for acme/platform/svc");
      expect(withoutId.output).toContain("--project-id");
      // … and with the ID stated, the job (namespace 33, from the lock) is allowed, as AWS would allow it
      const withId = await sandbox.explain([...job, "--project-id", "5001"]);
      expect(withId.code).toBe(EXIT_ALLOWED);
      expect(withId.output).toContain("sub: project_id:5001:ref_type:tag:ref:v1");
    } finally {
      sandbox.cleanup();
    }
  });
});

describe("explain --user-access-level", () => {
  test("a deployer requiring maintainer or owner: a developer's job is denied on user_access_level, a maintainer's allowed", async () => {
    // GIVEN a gitlab.com deployer whose grant also requires the user's project role, and its lock
    const sandbox = explainSandbox(
      { url: "https://gitlab.com" },
      [
        {
          name: "deployer",
          allow: [{ project: "acme/web", branches: ["main"], userAccessLevels: ["maintainer", "owner"] }],
        },
      ],
      'projects:\n  "acme/web": { id: 7, namespaceId: 8 }\n',
    );
    try {
      const job = ["--project", "acme/web", "--branch", "main", "--protected", "--pipeline-source", "push"];
      // WHEN main's pipeline is explained for a developer (the default) and for a maintainer
      const developer = await sandbox.explain([...job, "--user-access-level", "developer"]);
      // (and with the level left open, the answer says which levels it holds for: exit 4)
      const open = await sandbox.explain(job);
      expect(open.code).toBe(4);
      expect(open.output).toMatch(/only if the user's role is (maintainer or owner|owner or maintainer)/);
      const maintainer = await sandbox.explain([...job, "--user-access-level", "maintainer"]);
      // THEN the developer is denied, the differing key and its meaning named; the maintainer is allowed
      expect(developer.code).toBe(EXIT_DENIED);
      expect(developer.output).toContain("gitlab.com:user_access_level");
      expect(developer.output).toContain("userAccessLevels leaves out");
      expect(maintainer.code).toBe(EXIT_ALLOWED);
      expect(maintainer.output).toContain("user_access_level maintainer");
      // AND a level GitLab does not spell is a usage error
      expect(() => parseArguments([...job, "--user-access-level", "admin"])).toThrow(
        /--user-access-level must be one of guest, planner, reporter, developer, maintainer, owner/,
      );
    } finally {
      sandbox.cleanup();
    }
  });
});

describe("explain's exit codes (runCli in process; test/e2e/explain-cli.test.ts starts the real CLI)", () => {
  /** runCli on the fixture's HCL with captured output. */
  async function explain(args: string[], dir = fixture.outdir) {
    let stdout = "";
    let stderr = "";
    const code = await runCli([...args, "--dir", dir], {
      stdout: (text) => (stdout += text),
      stderr: (text) => (stderr += text),
      readStdin: async () => "",
    });
    return { code, stdout, stderr };
  }

  test("GIVEN a job a role allows THEN exit 0 (EXIT_ALLOWED)", async () => {
    const { code, stdout } = await explain(["--project", "acme/web", "--branch", "main"]);
    expect(EXIT_ALLOWED).toBe(0);
    expect(code).toBe(EXIT_ALLOWED);
    expect(stdout).toMatch(/ALLOWED {2}deploy/);
  });

  test("GIVEN a job no role allows THEN exit 3 (EXIT_DENIED), not 0", async () => {
    const { code, stdout } = await explain(["--project", "acme/platform-evil/x", "--tag", "v1.0.0"]);
    expect(EXIT_DENIED).toBe(3);
    expect(code).toBe(EXIT_DENIED);
    expect(stdout).toMatch(/^DENIED: 0 of 3 roles/m);
  });

  test("GIVEN the selected role denies and another allows THEN the exit code follows the selection", async () => {
    const job = ["--project", "acme/web", "--branch", "feature/x"];
    expect((await explain([...job, "--role", "preview"])).code).toBe(EXIT_ALLOWED);
    expect((await explain([...job, "--role", "deploy"])).code).toBe(EXIT_DENIED);
  });

  test("GIVEN a usage error (unknown flag, unknown role) THEN exit 2 (EXIT_USAGE)", async () => {
    expect(EXIT_USAGE).toBe(2);
    expect((await explain(["--project", "acme/web", "--branch", "main", "--nope"])).code).toBe(EXIT_USAGE);
    const unknown = await explain(["--project", "acme/web", "--branch", "main", "--role", "nope"]);
    expect(unknown.code).toBe(EXIT_USAGE);
    expect(unknown.stderr).toMatch(/no role "nope"/);
  });

  test("GIVEN synthesized output it cannot read THEN exit 1 (EXIT_ERROR) with the reason", async () => {
    const broken = mkdtempSync(join(tmpdir(), "explain-broken-"));
    try {
      writeFileSync(join(broken, "manifest.json"), "{ not json");
      const { code, stderr } = await explain(["--sub", formatSubject("acme/web", "branch", "main")], broken);
      expect(EXIT_ERROR).toBe(1);
      expect(code).toBe(EXIT_ERROR);
      expect(stderr).toMatch(/^explain: /);
    } finally {
      rmSync(broken, { recursive: true, force: true });
    }
  });
});
