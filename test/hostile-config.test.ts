/**
 * Hostile or careless config values are refused by the platforms' own rules, with the field and the rule
 * named: IAM's tag, description, path and ARN rules; characters that make a name read as another;
 * YAML built to exhaust the reader or to hide a key; keys named like JavaScript's object members. The
 * constructs run the same rules, so a stack built from code is refused the same way.
 */
import { TerraformStack, Testing } from "cdktf";
import { parse as parseYaml, stringify } from "yaml";
import { parseConfig } from "../src/config/load";
import { ConfigError } from "../src/config/rules";
import { evaluateCondition } from "../src/iam/evaluate";
import { adminPolicyRisk } from "../src/report/access-report";
import { GitLabOidcProvider } from "../src/constructs/gitlab-oidc-provider";
import { GitLabOidcRole } from "../src/constructs/gitlab-oidc-role";
import { AccountStack } from "../stacks/account-stack";
import {
  accountStackProps,
  lockFor,
  minimalConfig,
  parse,
  problemsOf,
  type RawConfig,
} from "./support/configs";

const withAllow = (...allow: unknown[]) => minimalConfig({ allow });
const ROLE = "accounts[0].roles[0]";

/** The one problem line of `raw`, which must be refused. */
function refusal(raw: RawConfig | string): string {
  const problems = problemsOf(raw);
  expect(problems).not.toEqual([]);
  return problems.join("\n");
}

describe("IAM's own rules, with the field and the rule named", () => {
  const cases: [string, RawConfig, string][] = [
    [
      "a tag value outside IAM's character class",
      minimalConfig({ tags: { team: "a;b" } }),
      `${ROLE}.tags.team: tag value contains U+003B (";"); IAM allows only letters, digits, spaces and _ . : / = + - @ in tags`,
    ],
    [
      "a template in a tag value",
      minimalConfig({ tags: { team: '${file("/proc/self/environ")}' } }),
      `${ROLE}.tags.team: tag value contains U+0024 ("$")`,
    ],
    [
      "a tag key with a quote and a newline",
      minimalConfig({ tags: { 'a"\n}': "x" } }),
      'tag key contains U+0022 ("\\"")',
    ],
    [
      "a tag key over 128 characters",
      minimalConfig({ tags: { ["k".repeat(129)]: "x" } }),
      "a tag key is 1–128 characters (IAM), got 129",
    ],
    [
      "a tag value over 256 characters",
      minimalConfig({ tags: { k: "v".repeat(257) } }),
      "a tag value is at most 256 characters (IAM), got 257",
    ],
    [
      "a tag key in the aws: namespace",
      minimalConfig({ tags: { "AWS:owner": "x" } }),
      'tag keys cannot start with "aws:"',
    ],
    [
      "an account's default tag outside the class",
      minimalConfig({}, { tags: { "cost{center}": "x" } }),
      'accounts[0].tags.cost{center}: tag key contains U+007B ("{")',
    ],
    [
      "a description outside IAM's pattern",
      minimalConfig({ description: "deploys 🚀" }),
      `${ROLE}.description: the description contains U+1F680 ("🚀"); IAM allows tab, newlines, printable ASCII and Latin-1`,
    ],
    [
      "a description with a bidi override",
      minimalConfig({ description: "safe \u202e" }),
      "the description contains U+202E (an invisible format character)",
    ],
    [
      "a description over 1000 characters",
      minimalConfig({ description: "d".repeat(1001) }),
      "at most 1000 characters (IAM), got 1001",
    ],
    [
      "a path with a space",
      minimalConfig({ path: "/a b/" }),
      `${ROLE}.path: an IAM path must be "/" or start and end with "/"`,
    ],
    [
      "a template in a path",
      minimalConfig({ path: "/${var.x}/" }),
      `${ROLE}.path: an IAM path cannot contain "\${" or "%{" (a Terraform template)`,
    ],
    [
      "a managed policy ARN of another service",
      minimalConfig({ managedPolicyArns: ["arn:aws:s3:::bucket/x"] }),
      `${ROLE}.managedPolicyArns[0]: service "s3" of "arn:aws:s3:::bucket/x" must be iam`,
    ],
    [
      "a managed policy ARN of another resource type",
      minimalConfig({ managedPolicyArns: ["arn:aws:iam::aws:role/Admin"] }),
      'resource type "role" of "arn:aws:iam::aws:role/Admin" must be policy',
    ],
    [
      "a managed policy ARN in an unknown partition",
      minimalConfig({ managedPolicyArns: ["arn:aws-eu:iam::aws:policy/ReadOnlyAccess"] }),
      'partition "aws-eu" of "arn:aws-eu:iam::aws:policy/ReadOnlyAccess" is not one of aws, aws-cn, aws-us-gov',
    ],
    [
      "a managed policy ARN in the wrong partition",
      minimalConfig({ managedPolicyArns: ["arn:aws-cn:iam::aws:policy/ReadOnlyAccess"] }),
      "is in partition aws-cn, but the account is in aws",
    ],
    [
      "a managed policy ARN with a short account",
      minimalConfig({ managedPolicyArns: ["arn:aws:iam::12345:policy/P"] }),
      'account "12345" of "arn:aws:iam::12345:policy/P" must be 12 digits or "aws"',
    ],
    [
      "a permissions boundary in another account",
      minimalConfig({ permissionsBoundary: "arn:aws:iam::222222222222:policy/boundary" }),
      `${ROLE}.permissionsBoundary: the permissions boundary is in account 222222222222, but this stack manages 111111111111`,
    ],
    [
      "a template in a permissions boundary",
      minimalConfig({ permissionsBoundary: 'arn:aws:iam::111111111111:policy/${file("x")}/b' }),
      `${ROLE}.permissionsBoundary: path of "arn:aws:iam::111111111111:policy/\${file("x")}/b": an IAM path cannot contain`,
    ],
    [
      "a deploy role ARN that is a policy",
      minimalConfig({}, { deployRoleArn: "arn:aws:iam::111111111111:policy/deploy" }),
      'accounts[0].deployRoleArn: resource type "policy" of "arn:aws:iam::111111111111:policy/deploy" must be role',
    ],
    [
      "a deploy role ARN with a region",
      minimalConfig({}, { deployRoleArn: "arn:aws:iam:eu-west-1:111111111111:role/deploy" }),
      'names region "eu-west-1", but IAM ARNs have none',
    ],
    [
      "a deploy role ARN with a template",
      minimalConfig({}, { deployRoleArn: "arn:aws:iam::111111111111:role/%{if}/deploy" }),
      "accounts[0].deployRoleArn: path of",
    ],
    [
      "Principal in an inline (identity) policy",
      minimalConfig({
        inlinePolicies: {
          p: {
            Version: "2012-10-17",
            Statement: [{ Effect: "Allow", Principal: "*", Action: "s3:GetObject", Resource: "*" }],
          },
        },
      }),
      `${ROLE}.inlinePolicies.p: Statement[0] has Principal, which only resource policies (such as the trust policy) take`,
    ],
    [
      "NotPrincipal in an inline policy",
      minimalConfig({
        inlinePolicies: {
          p: {
            Version: "2012-10-17",
            Statement: { Effect: "Deny", NotPrincipal: { AWS: "x" }, Action: "*", Resource: "*" },
          },
        },
      }),
      "Statement[0] has NotPrincipal",
    ],
  ];

  test.each(cases)("%s", (_name, raw, expected) => {
    // GIVEN a config that differs from a valid one in one field; WHEN it is read
    // THEN the refusal names the field and the rule
    expect(refusal(raw)).toContain(expected);
  });

  test("values IAM allows pass: Unicode letters and spaces in tags, Latin-1 and quotes in a description", () => {
    const tags = { "Kostenstelle Größe": "Zürich 42 _.:/=+-@", 東京: "値" };
    const description = 'Déploie "web" ; ½ «ok»\n\tsecond line';
    const role = parse(minimalConfig({ tags, description })).accounts[0].roles[0];
    expect(role.tags).toEqual(tags);
    expect(role.description).toBe(description);
  });
});

test("a tag problem is reported in the same run as a shape problem elsewhere (the schema checks it too)", () => {
  const problems = problemsOf(minimalConfig({ tags: { "a;b": "x" }, maxSessionDuration: "long" }));
  expect(problems.join("\n")).toContain(`${ROLE}.tags.a;b: tag key contains U+003B`);
  expect(problems.join("\n")).toContain(`${ROLE}.maxSessionDuration`);
});

describe("invisible and look-alike characters in what selects who gets a role", () => {
  const cases: [string, RawConfig, string][] = [
    [
      "a zero-width space after main",
      withAllow({ project: "acme/web", branches: ["main\u200b"] }),
      `${ROLE}.allow[0].branches[0]: a branch pattern contains U+200B (an invisible format character)`,
    ],
    [
      "a right-to-left override in a tag pattern",
      withAllow({ project: "acme/web", tags: ["v1\u202e2"] }),
      `${ROLE}.allow[0].tags[0]: a tag pattern contains U+202E (an invisible format character)`,
    ],
    [
      "a combining mark in a branch",
      withAllow({ project: "acme/web", branches: ["mai\u0301n"] }),
      "a branch pattern contains U+0301 (a combining mark)",
    ],
    [
      "a Cyrillic a in a branch",
      withAllow({ project: "acme/web", branches: ["m\u0430in"] }),
      'a branch pattern contains U+0430 ("а", which looks like ASCII "a")',
    ],
    [
      "a fullwidth letter in a branch",
      withAllow({ project: "acme/web", branches: ["ｍain"] }),
      'U+FF4D ("ｍ", which looks like ASCII "m")',
    ],
    [
      "a division slash in a branch",
      withAllow({ project: "acme/web", branches: ["release\u2215*"] }),
      'U+2215 ("∕", which looks like ASCII "/")',
    ],
    [
      "a Cyrillic letter in a project path",
      withAllow({ project: "\u0430cme/web", branches: ["main"] }),
      `${ROLE}.allow[0].project: the project path contains U+0430 ("а", which looks like ASCII "a"); GitLab paths are ASCII`,
    ],
    [
      "a zero-width joiner in a group path",
      withAllow({ group: "acme\u200d/platform", branches: ["main"] }),
      `${ROLE}.allow[0].group: the group path contains U+200D (an invisible format character)`,
    ],
    [
      "a non-ASCII letter in a group path",
      withAllow({ group: "äcme", branches: ["main"] }),
      'the group path contains U+00E4 ("ä"); GitLab paths are ASCII',
    ],
    [
      "a zero-width space in an audience",
      { ...minimalConfig(), gitlab: { url: "https://gitlab.com", audience: ["https://gitlab.com\u200b"] } },
      "gitlab.audience[0]: audience contains U+200B (an invisible format character)",
    ],
    [
      "a Greek omicron in an audience",
      { ...minimalConfig(), gitlab: { url: "https://gitlab.com", audience: "sts.amazonaws.c\u03bfm" } },
      'gitlab.audience: audience contains U+03BF ("ο", which looks like ASCII "o")',
    ],
  ];

  test.each(cases)("%s is refused, showing the code point", (_name, raw, expected) => {
    expect(refusal(raw)).toContain(expected);
  });

  test("other non-ASCII in a branch name is allowed: git and GitLab take UTF-8 ref names", () => {
    const config = parse(withAllow({ project: "acme/web", branches: ["fix/größe", "機能/*"] }));
    expect(config.accounts[0].roles[0].allow[0].branches).toEqual(["fix/größe", "機能/*"]);
  });
});

describe("YAML built to exhaust the reader or hide a key", () => {
  const valid = () => stringify(minimalConfig());

  test("nested aliases (billion laughs) are refused fast, with a problem line", () => {
    let text = "x0: &a0 [a, a, a, a, a, a, a, a, a, a]\n";
    for (let i = 1; i < 10; i++)
      text += `x${i}: &a${i} [${Array(10)
        .fill(`*a${i - 1}`)
        .join(", ")}]\n`;
    const started = Date.now();
    expect(refusal(text + valid())).toBe(
      "test.yaml: the YAML aliases expand to more than 100 copies; write the values out",
    );
    expect(Date.now() - started).toBeLessThan(5_000); // a hang would be the failure, not a slow machine
  });

  test("more aliases than a config needs are refused", () => {
    const text = `${valid()}x: &v main\ny: [${Array(101).fill("*v").join(", ")}]\n`;
    expect(refusal(text)).toMatch(
      /^test\.yaml:\d+:\d+: more than 100 YAML aliases \(\*name\); write the values out$/m,
    );
  });

  test.each([
    ["flow", `${valid()}deep: ${"[".repeat(50_000)}${"]".repeat(50_000)}\n`],
    ["block", `${valid()}${Array.from({ length: 2_000 }, (_, i) => `${" ".repeat(i)}k${i}:`).join("\n")}\n`],
  ])("deep %s nesting is refused with its line, not a stack overflow", (_kind, text) => {
    expect(refusal(text)).toMatch(/^test\.yaml:\d+:\d+: the document nests deeper than 64 levels/);
  });

  test("a huge document is refused before it is parsed", () => {
    const text = `${valid()}# ${"x".repeat(17 * 1024 * 1024)}\n`;
    expect(refusal(text)).toBe(
      "test.yaml: the file is 17.0 MiB, over the 16 MiB a config may have; split it",
    );
  });

  test("an alias used as a map key is refused (it would slip past the duplicate-key check)", () => {
    const text = valid().replace("name: deploy", "name: &n deploy\n        *n : other");
    expect(refusal(text)).toMatch(/a YAML alias \(\*n\) cannot be a map key/);
  });

  /** A config whose role has these grants, written as YAML. */
  const withGrants = (grants: string) =>
    valid().replace(/ {8}allow:\n(?: {10}.*\n)+/, `        allow:\n${grants.replace(/^/gm, "          ")}\n`);

  test("a YAML 1.1 merge key that sets only new keys is read", () => {
    const text = withGrants("- &web { project: acme/web, branches: [main] }\n- { <<: *web, tags: [v1] }");
    expect(parseConfig(text, "test.yaml", lockFor(minimalConfig())).accounts[0].roles[0].allow).toEqual([
      { project: "acme/web", branches: ["main"] },
      { project: "acme/web", branches: ["main"], tags: ["v1"] },
    ]);
  });

  test("a key set both by a merge and directly is a duplicate, refused (YAML would let one win unseen)", () => {
    const text = withGrants(
      "- &web { project: acme/web, branches: [main] }\n- { <<: *web, branches: ['*'] }",
    );
    expect(refusal(text)).toMatch(
      /^test\.yaml:\d+:\d+: key "branches" is set both here and by a merge \(<<\); say it once$/m,
    );
  });

  test("a key that two merged maps both set is refused", () => {
    const text = withGrants(
      "- &a { project: acme/web, branches: [main] }\n- &b { project: acme/api, tags: [v1] }\n- { <<: [*a, *b] }",
    );
    expect(refusal(text)).toMatch(/key "project" comes from two merged maps \(<<\); say it once/);
  });

  test("a duplicate key stays a duplicate when one of them comes through an alias value", () => {
    const text = valid().replace("name: deploy", "name: &n deploy\n        name: *n");
    expect(refusal(text)).toMatch(/invalid YAML: Map keys must be unique/);
  });
});

describe("keys named like Object.prototype members get a normal problem line", () => {
  test.each(["toString", "hasOwnProperty", "valueOf"])(
    "%s as a grant key is an unknown key, not a crash",
    (key) => {
      expect(refusal(withAllow({ project: "acme/web", branches: ["main"], [key]: "x" }))).toContain(
        `${ROLE}.allow[0].${key}: unknown key "${key}"`,
      );
    },
  );

  test("__proto__ anywhere is refused by name (JavaScript would read it as the prototype)", () => {
    const text = stringify(minimalConfig()).replace(
      "name: deploy",
      "name: deploy\n        tags: { __proto__: x }",
    );
    expect(refusal(text)).toMatch(/a key named "__proto__" is not allowed/);
    expect(refusal(`__proto__: {}\n${text}`)).toMatch(/^test\.yaml:1:1: a key named "__proto__"/m);
  });

  test("toString and hasOwnProperty are ordinary tag keys; constructor is refused by name", () => {
    expect(
      parse(minimalConfig({ tags: { toString: "a", hasOwnProperty: "b" } })).accounts[0].roles[0].tags,
    ).toEqual({
      toString: "a",
      hasOwnProperty: "b",
    });
    expect(refusal(minimalConfig({ tags: { constructor: "a" } }))).toMatch(
      /^test\.yaml:\d+:\d+: a key named "constructor" is not allowed/m,
    );
  });

  /** A role with a Deny guardrail under `key` (as written in YAML) and a harmless policy beside it. */
  const denyUnder = (key: string, style: "flow" | "block" | "merge" = "flow") => {
    const deny = '{ Version: "2012-10-17", Statement: [{ Effect: Deny, Action: "*", Resource: "*" }] }';
    const policies = {
      flow: `inlinePolicies: { ${key}: ${deny}, keep: ${deny} }`,
      block: `inlinePolicies:\n          ${key}: ${deny}\n          keep: ${deny}`,
      merge: `inlinePolicies: { <<: { ${key}: ${deny} }, keep: ${deny} }`,
    }[style];
    return stringify(minimalConfig()).replace("name: deploy", `name: deploy\n        ${policies}`);
  };

  test.each([
    ['"_\\x5fproto__"', "flow"],
    ['"\\u005f_proto__"', "flow"],
    ["'__proto__'", "block"],
    ['"__\\x70roto__"', "block"],
    ['"_\\x5fproto__"', "merge"],
    ['"constructor"', "flow"],
    ['"\\x63onstructor"', "block"],
    ["prototype", "flow"],
    ['"pro\\x74otype"', "merge"],
  ] as const)(
    "a Deny guardrail under %s (%s map) is refused by the parsed key, never dropped",
    (key, style) => {
      // GIVEN a Deny policy under a forbidden key, however YAML spells it (escapes, quotes, merges)
      const text = denyUnder(key, style);
      // WHEN the config is read THEN it is refused, on the key's line, naming the parsed key
      expect(refusal(text)).toMatch(
        /^test\.yaml:\d+:\d+: a key named "(__proto__|constructor|prototype)" is not allowed/m,
      );
    },
  );

  test("the same policies under ordinary names are read, both kept (the refusal is about the key)", () => {
    const text = denyUnder("guardrail");
    const role = parseConfig(text, "test.yaml", lockFor(minimalConfig())).accounts[0].roles[0];
    expect(Object.keys(role.inlinePolicies ?? {}).sort()).toEqual(["guardrail", "keep"]);
  });

  test("lookup tables keyed by user input answer only for their own keys", () => {
    // GIVEN a managed policy and a trust-policy condition key named like Object.prototype members
    expect(adminPolicyRisk("arn:aws:iam::aws:policy/constructor")).toBeUndefined();
    expect(adminPolicyRisk("arn:aws:iam::aws:policy/toString")).toBeUndefined();
    const result = evaluateCondition("StringEquals", "constructor", ["x"], {});
    // THEN the key is absent, as IAM sees it, not Object.prototype's member
    expect(result).toMatchObject({ actual: undefined, matched: false });
  });

  test.each(["constructor", "toString", "hasOwnProperty", "valueOf"])(
    "a group named %s that the lock lacks is refused naming npm run resolve, not a crash",
    (group) => {
      // GIVEN a gitlab.com group grant (pinned by ID) whose path is an Object.prototype member, and a lock without it
      const raw = withAllow({ group, branches: ["main"] });
      // WHEN the config is read (problemsOf rethrows anything but a ConfigError, e.g. a TypeError)
      const problems = problemsOf(raw, { projects: {}, groups: {} }).join("\n");
      // THEN it is one problem line on the grant, saying how to get the ID
      expect(problems).toContain(`${ROLE}.allow[0].group: group ${group} is not in the lock file`);
      expect(problems).toContain("npm run resolve");
    },
  );

  test("the YAML reader's own result keeps such keys as plain data", () => {
    expect(Object.getPrototypeOf(parseYaml("constructor: 1"))).toBe(Object.prototype);
  });
});

describe("one IAM role is defined once per AWS account", () => {
  test("two accounts with the same accountId cannot both define a role of one name (ignoring case)", () => {
    const [account] = minimalConfig().accounts as Record<string, unknown>[];
    const raw = {
      ...minimalConfig(),
      accounts: [
        account,
        {
          ...account,
          name: "production-eu",
          provider: "existing",
          roles: [{ name: "Deploy", allow: [{ project: "acme/web", branches: ["main"] }] }],
        },
      ],
    };
    expect(refusal(raw)).toContain(
      'accounts[1].roles[0].name: role "Deploy" is already defined at accounts[0].roles[0], in the same AWS account 111111111111',
    );
  });
});

describe("the constructs run the same rules as the config loader", () => {
  const context = {
    gitlab: { url: "https://gitlab.com", thumbprints: [] },
    limits: { trustPolicyLength: 2048, managedPoliciesPerRole: 10 },
    accountId: "111111111111",
    partition: "aws",
  };

  test("the provider refuses an audience with an invisible character or a template", () => {
    const app = Testing.app();
    expect(
      () =>
        new GitLabOidcProvider(app, "gitlab", { url: "https://gitlab.com", audiences: ["a\u200b", "${x}"] }),
    ).toThrow(
      new ConfigError([
        {
          path: ["audiences", 0],
          message:
            "audience contains U+200B (an invisible format character), which a reviewer cannot tell apart from what it looks like; write the name in plain characters",
        },
        {
          path: ["audiences", 1],
          message: 'audience "${x}" cannot contain quotes, backslashes, $, {, } or spaces',
        },
      ]).message,
    );
  });

  test("the provider refuses a URL that carries a template", () => {
    expect(
      () => new GitLabOidcProvider(Testing.app(), "gitlab", { url: 'https://gitlab.com/${file("x")}' }),
    ).toThrow(
      /url: url must be https:\/\/host\[:port\]\[\/path\] with no query, fragment, spaces or templates/,
    );
  });

  test("a role refuses tags, description, path, boundary and ARNs by IAM's rules", () => {
    const stack = new AccountStack(Testing.app(), accountStackProps());
    const provider = stack.node.findChild("gitlab") as GitLabOidcProvider;
    expect(
      () =>
        new GitLabOidcRole(stack, "bad", {
          provider,
          name: "bad",
          allow: [{ project: "acme/web", branches: ["main"] }],
          tags: { 'k"': "${x}" },
          description: "é\u0100",
          path: "/${x}/",
          permissionsBoundary: "arn:aws:iam::111111111111:role/b",
          managedPolicyArns: ["arn:aws:s3:::b"],
          context,
        }),
    ).toThrow(
      /roles\.bad\.managedPolicyArns\[0\]: service "s3"[^]*roles\.bad\.permissionsBoundary: resource type "role"[^]*roles\.bad\.path: an IAM path cannot contain[^]*roles\.bad\.description: the description contains U\+0100[^]*roles\.bad\.tags\.k": tag key contains U\+0022/,
    );
  });

  test("a role refuses a provider for another issuer than its context's", () => {
    // GIVEN a gitlab.com provider and a role context for a self-managed instance, where no ID is pinned
    // and protection is checked through sub
    const stack = new TerraformStack(Testing.app(), "s");
    const provider = new GitLabOidcProvider(stack, "gitlab", { url: "https://gitlab.com" });
    const selfManaged = {
      ...context,
      gitlab: {
        url: "https://gitlab.example.com",
        subClaim: ["project_path" as const, "ref_type" as const, "ref" as const, "ref_protected" as const],
        thumbprints: [],
      },
    };
    // WHEN a role is built from the two
    let attempt = 0;
    const build = () =>
      new GitLabOidcRole(stack, `r${attempt++}`, {
        provider,
        name: "r",
        audience: "https://gitlab.com", // a client ID of the provider
        allow: [{ project: "acme/web", branches: ["main"] }],
        context: selfManaged,
      });
    // THEN it is refused, rather than trusting gitlab.com tokens by path with the self-managed rules
    expect(build).toThrow(ConfigError);
    expect(build).toThrow(
      /roles\.r: the provider is for tokens of https:\/\/gitlab\.com, but the role's context is for https:\/\/gitlab\.example\.com/,
    );
  });

  test("an account stack refuses a deploy role and default tags outside the rules", () => {
    const c = parse(minimalConfig());
    const account = {
      ...c.accounts[0],
      deployRoleArn: "arn:aws:iam::222222222222:role/x",
      tags: { "a\u200b": "b" },
    };
    expect(
      () => new AccountStack(Testing.app(), { gitlab: c.gitlab, state: c.state, limits: c.limits, account }),
    ).toThrow(
      /accounts\.production\.deployRoleArn: the deploy role is in account 222222222222[^]*accounts\.production\.tags\.a\u200b: tag key contains U\+200B/,
    );
  });
});
