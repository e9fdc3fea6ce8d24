import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { generateConfig, generatedConfigData, generateLock } from "../bench/generate";
import { loadConfigFile, parseConfig, parseConfigWithPositions } from "../src/config/load";
import { parseLock, readLockFor, type GitLabLock } from "../src/gitlab/lock";
import { minimalConfig, parse, problemsOf, type RawConfig } from "./support/configs";
import { EXAMPLE_FIXTURE } from "./support/example";

const ROOT = join(__dirname, ".."); // the tool's files only: fixtures, never the team's root config

/** A config whose first account's first role has these allow entries. */
const withAllow = (...allow: unknown[]) => minimalConfig({ allow });
const withGitlab = (gitlab: Record<string, unknown>) => ({ ...minimalConfig(), gitlab });

describe("the example config", () => {
  test("is accepted, with defaults filled in", () => {
    // GIVEN the example (its copy in test/fixtures, with the lock beside it)
    // WHEN it is loaded
    const config = loadConfigFile(EXAMPLE_FIXTURE);
    // THEN it has both accounts, and defaults the team did not write
    expect(config.accounts.map((a) => a.name)).toEqual(["production", "staging"]);
    expect(config.state).toEqual({ type: "local" });
    expect(config.limits).toEqual({ trustPolicyLength: 2048, managedPoliciesPerRole: 10 });
    expect(config.accounts[1].provider).toBe("create");
    expect(config.accounts[1].roles[0].maxSessionDuration).toBe(3600);
  });
});

describe("rejections name the field and the fix", () => {
  const cases: [string, RawConfig, string][] = [
    [
      "a non-https URL",
      withGitlab({ url: "http://gitlab.com" }),
      "gitlab.url: gitlab.url must start with https://",
    ],
    [
      "a trailing slash",
      withGitlab({ url: "https://gitlab.com/" }),
      'gitlab.url: gitlab.url must not end with a slash: use "https://gitlab.com"',
    ],
    [
      // Otherwise `GitLab.com` is not gitlab.com: no ID pinning by default, no gitlab.com:ref_protected
      "an upper-case host",
      withGitlab({ url: "https://GitLab.com" }),
      'gitlab.url: gitlab.url must name the host in lowercase without a trailing dot, as tokens\' iss does: use "https://gitlab.com"',
    ],
    [
      "a host with a trailing dot",
      withGitlab({ url: "https://gitlab.com.", issuer: "https://Example.com/GitLab" }),
      'gitlab.url: gitlab.url must name the host in lowercase without a trailing dot, as tokens\' iss does: use "https://gitlab.com"',
    ],
    [
      "an upper-case issuer host (the path keeps its case)",
      withGitlab({ url: "https://gitlab.com", issuer: "https://Example.com/GitLab" }),
      'gitlab.issuer: gitlab.issuer must name the host in lowercase without a trailing dot, as tokens\' iss does: use "https://example.com/GitLab"',
    ],
    [
      "a typo in a key",
      withAllow({ project: "acme/web", braches: ["main"] }),
      'accounts[0].roles[0].allow[0].braches: unknown key "braches"; did you mean "branches"?',
    ],
    [
      "a role without allow",
      minimalConfig({ allow: undefined }),
      "accounts[0].roles[0].allow: missing: allow is required",
    ],
    [
      "an empty allow list",
      minimalConfig({ allow: [] }),
      "accounts[0].roles[0].allow: a role needs at least one allow entry",
    ],
    [
      "a wildcard in a project path",
      withAllow({ project: "acme/*", branches: ["main"] }),
      "accounts[0].roles[0].allow[0].project: wildcards are not allowed in a project path; use group: acme",
    ],
    [
      "a prefix wildcard in a project path",
      withAllow({ project: "acme/platform/web*", branches: ["main"] }),
      "use group: acme/platform",
    ],
    [
      "a wildcard in a group path",
      withAllow({ group: "acme*", branches: ["main"] }),
      "accounts[0].roles[0].allow[0].group: wildcards are not allowed in a group path",
    ],
    [
      "an environment condition",
      withAllow({ project: "acme/web", branches: ["main"], environment: "production" }),
      'accounts[0].roles[0].allow[0].environment: "environment" is a GitLab ID-token claim; write environments: { tiers: [production], protected: true } (checked through sub',
    ],
    [
      "a ref_protected condition",
      withAllow({ project: "acme/web", branches: ["main"], ref_protected: "true" }),
      '"ref_protected" is a GitLab ID-token claim; write protected: true (the default)',
    ],
    [
      "an unquoted account id",
      minimalConfig({}, { accountId: 111111111111 }),
      'accounts[0].accountId: accountId must be a quoted 12-digit string, e.g. "111111111111"',
    ],
    [
      "an 11-digit account id",
      minimalConfig({}, { accountId: "11111111111" }),
      "accountId must be exactly 12 digits",
    ],
    [
      "a duplicate stack name",
      {
        ...minimalConfig(),
        accounts: [
          (minimalConfig().accounts as object[])[0],
          { ...(minimalConfig().accounts as object[])[0], accountId: "222222222222", name: "Production" },
        ],
      },
      'accounts[1].name: stack name "Production" is already used by accounts[0]',
    ],
    [
      "stack names that differ only in - and _ (they name the pipeline's CI/CD variables)",
      {
        ...minimalConfig(),
        accounts: [
          { ...(minimalConfig().accounts as object[])[0], name: "prod-eu" },
          { ...(minimalConfig().accounts as object[])[0], accountId: "222222222222", name: "prod_eu" },
        ],
      },
      'accounts[1].name: stack name "prod_eu" is already used by accounts[0]',
    ],
    [
      "a duplicate role name (IAM names are case-insensitive)",
      minimalConfig(
        {},
        {
          roles: [
            { name: "deploy", allow: [{ project: "acme/web", branches: ["main"] }] },
            { name: "Deploy", allow: [{ project: "acme/web", branches: ["main"] }] },
          ],
        },
      ),
      'accounts[0].roles[1].name: role "Deploy" is already defined at roles[0]',
    ],
    ["a role name over 64 characters", minimalConfig({ name: "r".repeat(65) }), "at most 64 characters"],
    [
      "a role name with a space",
      minimalConfig({ name: "my role" }),
      "may contain only letters, digits and + = , . @ _ -",
    ],
    [
      "a path without slashes",
      minimalConfig({ path: "gitlab" }),
      'accounts[0].roles[0].path: an IAM path must be "/" or start and end with "/"',
    ],
    [
      "a session under an hour",
      minimalConfig({ maxSessionDuration: 900 }),
      "maxSessionDuration must be at least 3600",
    ],
    [
      "a session over 12 hours",
      minimalConfig({ maxSessionDuration: 50000 }),
      "maxSessionDuration can be at most 43200",
    ],
    [
      "a boundary that is not a policy ARN",
      minimalConfig({ permissionsBoundary: "arn:aws:iam::111111111111:role/boundary" }),
      "accounts[0].roles[0].permissionsBoundary:",
    ],
    [
      "more managed policies than the default quota",
      minimalConfig({
        managedPolicyArns: Array.from({ length: 11 }, (_, i) => `arn:aws:iam::aws:policy/P${i}`),
      }),
      "accounts[0].roles[0].managedPolicyArns: 11 managed policies, over the quota of 10 per role; raise the IAM quota and set limits.managedPoliciesPerRole",
    ],
    [
      "more than 20 managed policies, even with a raised quota",
      {
        ...minimalConfig({
          managedPolicyArns: Array.from({ length: 21 }, (_, i) => `arn:aws:iam::aws:policy/P${i}`),
        }),
        limits: { managedPoliciesPerRole: 20 },
      },
      "21 managed policies, over the quota of 20 per role (IAM's hard limit)",
    ],
    [
      "more than 100 audiences",
      withGitlab({ url: "https://gitlab.com", audience: Array.from({ length: 101 }, (_, i) => `aud-${i}`) }),
      "gitlab.audience: 101 audiences, over IAM's 100 per provider",
    ],
    [
      "a trust policy over IAM's default quota",
      withAllow(
        ...Array.from({ length: 40 }, (_, i) => ({
          project: `acme/service-number-${i}`,
          branches: ["main", "release/*"],
        })),
      ),
      "accounts[0].roles[0].allow: the trust policy would be",
    ],
    [
      "a ref pattern with a colon",
      withAllow({ project: "acme/web", branches: ["main:ref_type:tag"] }),
      "accounts[0].roles[0].allow[0].branches[0]: a branch pattern cannot contain ':'",
    ],
    [
      "a policy variable in a tag pattern",
      withAllow({ project: "acme/web", tags: ["${aws:username}"] }),
      "accounts[0].roles[0].allow[0].tags[0]: a tag pattern cannot contain",
    ],
    [
      "no refs at all",
      withAllow({ project: "acme/web" }),
      "accounts[0].roles[0].allow[0]: say which refs may assume the role",
    ],
    [
      "both project and group",
      withAllow({ project: "acme/web", group: "acme", branches: ["main"] }),
      "accounts[0].roles[0].allow[0]: name either project or group, not both",
    ],
    [
      "anyRef with branches",
      withAllow({ project: "acme/web", anyRef: true, branches: ["main"] }),
      "anyRef: true already allows every branch and tag",
    ],
    [
      "a namespace given as a project",
      withAllow({ project: "acme", branches: ["main"] }),
      '"acme" is a namespace, not a project: write namespace/project, or use group: acme',
    ],
    [
      "a bad thumbprint",
      withGitlab({ url: "https://gitlab.example.com", thumbprints: ["abc"] }),
      "gitlab.thumbprints[0]",
    ],
    [
      "two stacks creating the provider in one account",
      {
        ...minimalConfig(),
        accounts: [
          (minimalConfig().accounts as object[])[0],
          { ...(minimalConfig().accounts as object[])[0], name: "production-us", region: "us-east-1" },
        ],
      },
      "accounts[1].provider: accounts[0] already creates the GitLab OIDC provider in account 111111111111",
    ],
    [
      "a deploy role in another account",
      minimalConfig({}, { deployRoleArn: "arn:aws:iam::222222222222:role/deployer" }),
      "accounts[0].deployRoleArn: the deploy role is in account 222222222222, but this stack manages 111111111111",
    ],
    [
      "an inline policy value with a double quote",
      minimalConfig({
        inlinePolicies: {
          p: {
            Version: "2012-10-17",
            Statement: [{ Effect: "Allow", Action: "s3:*", Resource: 'arn:aws:s3:::a"b' }],
          },
        },
      }),
      "accounts[0].roles[0].inlinePolicies.p: the value",
    ],
    [
      "two inline policy names that map to one Terraform address",
      minimalConfig({
        inlinePolicies: {
          "a.b": {
            Version: "2012-10-17",
            Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: "*" }],
          },
          a_b: {
            Version: "2012-10-17",
            Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: "*" }],
          },
        },
      }),
      'accounts[0].roles[0].inlinePolicies.a_b: inline policies "a.b" and "a_b" map to one Terraform address',
    ],
    [
      "an unknown state type",
      { ...minimalConfig(), state: { type: "azurerm" } },
      'state.type: state.type must be "local", "gitlab" or "s3"',
    ],
    [
      "an s3 state without its bucket",
      { ...minimalConfig(), state: { type: "s3" } },
      "state.bucket: missing: bucket is required",
    ],
  ];

  test.each(cases)("%s", (_name, raw, expected) => {
    // GIVEN a config with one mistake
    // WHEN it is parsed
    const problems = problemsOf(raw);
    // THEN the problem names the field (and the file and line), and says what to do
    expect(problems.join("\n")).toContain(expected);
    expect(problems.every((line) => line.startsWith("test.yaml"))).toBe(true);
  });

  test("the base config of these cases is itself valid, so each case fails for its own mistake", () => {
    expect(problemsOf(minimalConfig())).toEqual([]);
  });
});

describe("raised quotas", () => {
  test("limits.trustPolicyLength admits a longer trust policy", () => {
    // GIVEN a role whose trust policy is over 2048 characters: ten projects, each pinned by its ID in
    // its own statement
    const allow = Array.from({ length: 10 }, (_, i) => ({
      project: `acme/service-number-${i}`,
      branches: ["main"],
    }));
    // WHEN the quota is raised in the config
    // THEN it is accepted, and refused without the raise
    expect(problemsOf({ ...withAllow(...allow), limits: { trustPolicyLength: 4096 } })).toEqual([]);
    expect(problemsOf(withAllow(...allow))).toEqual([
      expect.stringMatching(
        /^test\.yaml:\d+:\d+: accounts\[0\]\.roles\[0\]\.allow: the trust policy would be \d{4} characters, over the 2048-character quota \(ACLSizePerRole\)/,
      ),
    ]);
  });

  test("limits.managedPoliciesPerRole admits up to 20", () => {
    const arns = Array.from({ length: 15 }, (_, i) => `arn:aws:iam::aws:policy/P${i}`);
    expect(
      problemsOf({ ...minimalConfig({ managedPolicyArns: arns }), limits: { managedPoliciesPerRole: 20 } }),
    ).toEqual([]);
  });
});

describe("problem reports", () => {
  test("every problem is reported at once (grants too, despite shape errors), one per line, with its line", () => {
    // GIVEN a YAML file with three mistakes on known lines
    const yaml = [
      "gitlab:",
      "  url: http://gitlab.com",
      "accounts:",
      "  - name: production",
      '    accountId: "123"',
      "    region: eu-west-1",
      "    roles:",
      "      - name: deploy",
      "        allow:",
      "          - project: acme/*",
      "            branches: [main]",
    ].join("\n");
    // WHEN it is parsed
    const problems = problemsOf(yaml);
    // THEN there is one line per problem, located at the offending key
    expect(problems).toEqual([
      expect.stringMatching(/^test\.yaml:2:3: gitlab\.url: /),
      expect.stringMatching(/^test\.yaml:5:5: accounts\[0\]\.accountId: /),
      "test.yaml:10:13: accounts[0].roles[0].allow[0].project: wildcards are not allowed in a project path; use group: acme",
    ]);
  });

  test("semantic problems carry line numbers too", () => {
    const yaml = [
      "gitlab: { url: https://gitlab.com }",
      "accounts:",
      "  - name: production",
      '    accountId: "111111111111"',
      "    region: eu-west-1",
      "    roles:",
      "      - name: deploy",
      "        allow:",
      "          - project: acme/web",
      "            branches: [main]",
      "          - project: acme/*",
      "            tags: [v1]",
    ].join("\n");
    expect(problemsOf(yaml)).toEqual([
      "test.yaml:11:13: accounts[0].roles[0].allow[1].project: wildcards are not allowed in a project path; use group: acme",
    ]);
  });

  test("invalid YAML is reported with its position", () => {
    expect(problemsOf("gitlab:\n  url: [unclosed\n")[0]).toMatch(/^test\.yaml:\d+:\d+: invalid YAML: /);
  });

  test("a missing file says how to point at another", () => {
    const { loadConfigFile } = jest.requireActual<typeof import("../src/config/load")>("../src/config/load");
    expect(() => loadConfigFile("/nonexistent/gitlab-oidc.yaml")).toThrow(
      /file not found \(set GITLAB_OIDC_CONFIG/,
    );
  });
});

describe("accepted shapes", () => {
  test("a group grant, tags only, anyRef, a list of audiences, pinned thumbprints and GitLab state", () => {
    // GIVEN a config using every optional feature
    const config = parse({
      gitlab: {
        url: "https://gitlab.example.com/gitlab",
        audience: ["aws", "sts.amazonaws.com"],
        subClaim: ["project_path", "ref_type", "ref", "ref_protected"],
        thumbprints: ["A".repeat(40)],
      },
      state: { type: "gitlab", url: "https://gitlab.example.com", projectId: 42 },
      accounts: [
        {
          name: "production",
          accountId: "111111111111",
          region: "eu-west-1",
          partition: "aws",
          deployRoleArn: "arn:aws:iam::111111111111:role/platform-deployer",
          provider: "existing",
          roles: [
            {
              name: "deploy",
              audience: "gitlab-oidc-aws-deploy-production",
              allow: [
                { group: "acme/platform", tags: ["v*"] },
                { project: "acme/web", anyRef: true },
              ],
              permissionsBoundary: "arn:aws:iam::111111111111:policy/boundary",
              maxSessionDuration: 7200,
              path: "/gitlab/ci/",
              tags: { team: "platform" },
            },
          ],
        },
      ],
    });
    // THEN the values come through as written
    expect(config.gitlab.thumbprints).toEqual(["A".repeat(40)]);
    expect(config.state).toEqual({ type: "gitlab", url: "https://gitlab.example.com", projectId: 42 });
    expect(config.accounts[0].roles[0].allow[1].anyRef).toBe(true);
  });
});

describe("a provider shared by two accounts of the config", () => {
  const accounts = (audience: unknown) => [
    {
      name: "a",
      accountId: "111111111111",
      region: "eu-west-1",
      roles: [{ name: "r", allow: [{ project: "acme/web", branches: ["main"] }] }],
    },
    {
      name: "b",
      accountId: "111111111111",
      region: "us-east-1",
      provider: "existing",
      roles: [{ name: "s", audience, allow: [{ project: "acme/web", branches: ["main"] }] }],
    },
  ];

  test("a role of the account that looks it up needs its audience among the client IDs the other creates", () => {
    // GIVEN account a creating the account's provider, and account b (same account ID) looking it up with
    // a role whose own audience no role of a names
    const raw = { gitlab: { url: "https://gitlab.com" }, accounts: accounts("deploy-b") };
    // WHEN the config is read
    // THEN it is refused: the provider a creates would not list deploy-b, and STS would refuse every token
    expect(problemsOf(raw)).toEqual([
      expect.stringContaining(
        'accounts[1].roles[0].audience: "deploy-b" is not a client ID of the provider that accounts[0] creates in account 111111111111',
      ),
    ]);
    // … and accepted once gitlab.audience, which every provider lists, names it
    expect(
      problemsOf({
        gitlab: { url: "https://gitlab.com", audience: ["https://gitlab.com", "deploy-b"] },
        accounts: accounts("deploy-b"),
      }),
    ).toEqual([]);
  });
});

describe("the two YAML readers", () => {
  // parseConfig reads valid configs with js-yaml (fast) and everything else with `yaml` (positions):
  // they must read every config alike.
  const texts: [string, string, GitLabLock?][] = [
    ...[
      "test/fixtures/configs/example.yaml",
      "test/fixtures/configs/kitchen-sink.yaml",
      "test/fixtures/configs/odd-names.yaml",
    ].map((file): [string, string, GitLabLock?] => [
      file,
      readFileSync(join(ROOT, file), "utf8"),
      readLockFor(join(ROOT, file)),
    ]),
    [
      "a generated 3 × 20 config",
      generateConfig(3, 20),
      parseLock(generateLock(3, 20), "generated.lock.yaml"),
    ],
    [
      "YAML's tricky scalars (no lock: IDs not pinned)",
      [
        "gitlab: { url: https://gitlab.com, audience: [yes, 'no', on], pinIds: false }",
        "accounts:",
        "  - { name: a, accountId: '011111111111', region: eu-west-1, tags: { k: &v anchored, k2: *v }, roles: [",
        '      { name: r, allow: [{ project: a/b, branches: ["*", main] }], inlinePolicies: { p: { Version: 2012-10-17,',
        "        Statement: [{ Effect: Allow, Action: 's3:*', Resource: '*',",
        "          Condition: { StringEquals: { x: [yes, 'no', on, 1e3, .inf, 0x1F, 0o17, ~, 2012-10-17, 012345, -0, +1] } } }] } } }] }",
      ].join("\n"),
      undefined,
    ],
  ];

  test.each(texts)("%s: both give the same configuration", (_name, text, lock) => {
    // Compared as the JSON the synth writes (js-yaml reads `-0` as 0: the same in JSON).
    const asJson = (config: unknown) => JSON.parse(JSON.stringify(config));
    expect(asJson(parseConfig(text, "test.yaml", lock))).toEqual(
      asJson(parseConfigWithPositions(text, "test.yaml", lock)),
    );
  });
});

describe("the generated scale configs (bench/generate.ts)", () => {
  test("their data is what their YAML reads back to, so tests that take the data test the bench's configs", () => {
    for (const [accounts, roles] of [
      [1, 1],
      [3, 2],
      [2, 7],
    ]) {
      expect(generatedConfigData(accounts, roles)).toEqual(parseYaml(generateConfig(accounts, roles)));
    }
  });
});
