/**
 * Semantic tests: the trust policies as synthesized into HCL, read back and evaluated the way IAM
 * evaluates them, against the claims GitLab puts in real ID tokens (formatted by GitLab's rules, turned
 * into the request context AWS builds for the issuer).
 */
import type { GitLabLock } from "../src/gitlab/lock";
import { evaluateTrustPolicy, stringLike } from "../src/iam/evaluate";
import {
  DEFAULT_SUB_CLAIM,
  formatSubClaim,
  requestContextFor,
  SUB_CLAIM_COMPONENTS,
  type SubClaimComponent,
} from "../src/model/claims";
import { formatSubject, operatorFor } from "../src/model/subjects";
import {
  policyLength,
  policyLengthOfJson,
  trustPolicyFor,
  withProviderArn,
  type IamPolicyDocument,
} from "../src/model/trust-policy";
import type { SynthesizedStack } from "../src/terraform/synthesized-stacks";
import {
  lockFor,
  minimalConfig,
  parse,
  problemsOf,
  synthesizeToTemp,
  type RawConfig,
} from "./support/configs";
import { synthesizedExample } from "./support/example";
import { randomText, seeded } from "./support/seeded";

/** The default audience (gitlab.audience unset): the component's default aud. */
const AUD = "sts.amazonaws.com";
const OLD_AUD = "https://gitlab.com";

/** A CI/CD job as GitLab describes it in its ID token. */
interface Job {
  readonly project: string;
  readonly projectId?: number;
  readonly namespaceId?: number;
  readonly refType?: "branch" | "tag";
  readonly ref?: string;
  /** @default true */
  readonly protected?: boolean;
  readonly pipelineSource?: string;
  readonly runnerEnvironment?: string;
  /** The project role of the user the job runs as. @default "developer" */
  readonly userAccessLevel?: string;
  /** A job with an environment carries environment_protected and deployment_tier. */
  readonly environment?: { readonly protected: boolean; readonly tier: string };
  /** @default AUD */
  readonly aud?: string;
  /** The project's sub claim components. @default GitLab's default */
  readonly subClaim?: readonly SubClaimComponent[];
}

/** The token's claims, `sub` formatted as GitLab does. */
function claimsOf(job: Job): Record<string, string> {
  const values = {
    project_path: job.project,
    ...(job.projectId !== undefined ? { project_id: String(job.projectId) } : {}),
    ref_type: job.refType ?? "branch",
    ref: job.ref ?? "main",
    ref_protected: String(job.protected ?? true),
    ...(job.environment
      ? { environment_protected: String(job.environment.protected), deployment_tier: job.environment.tier }
      : {}),
  };
  return {
    ...values,
    ...(job.namespaceId !== undefined ? { namespace_id: String(job.namespaceId) } : {}),
    pipeline_source: job.pipelineSource ?? "push",
    runner_environment: job.runnerEnvironment ?? "self-hosted",
    user_access_level: job.userAccessLevel ?? "developer",
    sub: formatSubClaim(job.subClaim ?? DEFAULT_SUB_CLAIM, values),
  };
}

/** Would this job get the role, per the synthesized trust policy? */
function allows(stack: SynthesizedStack, role: string, job: Job): boolean {
  const found = stack.roles.find((r) => r.name === role);
  if (!found) throw new Error(`no role ${role} in ${stack.name}`);
  const host = stack.providerUrl.replace(/^https:\/\//, "");
  return evaluateTrustPolicy(found.trustPolicy, {
    federatedPrincipal: stack.providerReference,
    context: requestContextFor(host, claimsOf(job), job.aud ?? AUD),
  }).allowed;
}

/** Synthesizes a raw config with `lock` (default: every path resolved) and reads the HCL back. */
async function synthesized(raw: RawConfig, lock: GitLabLock = lockFor(raw)) {
  return synthesizeToTemp(parse(raw, lock));
}

describe("subjects", () => {
  test("GitLab's default sub claim format", () => {
    expect(formatSubject("agroup/bgroup/myproject", "tag", "v4.2.0")).toBe(
      "project_path:agroup/bgroup/myproject:ref_type:tag:ref:v4.2.0",
    );
  });

  test("customised components: name:value pairs in order, absent values skipped (jwt_v2.rb)", () => {
    expect(
      formatSubClaim(["project_id", "ref_type", "ref", "ref_protected", "environment_protected"], {
        project_id: "42",
        ref_type: "branch",
        ref: "main",
        ref_protected: "true",
      }),
    ).toBe("project_id:42:ref_type:branch:ref:main:ref_protected:true");
  });

  test("the operator follows from the value", () => {
    expect(operatorFor(formatSubject("acme/web", "branch", "main"))).toBe("StringEquals");
    expect(operatorFor(formatSubject("acme/web", "branch", "release/*"))).toBe("StringLike");
    expect(operatorFor(formatSubject("acme/web", "tag", "v?"))).toBe("StringLike");
  });
});

describe("trust policy structure", () => {
  const lock: GitLabLock = {
    projects: { "acme/web": { id: 1001, namespaceId: 2001 } },
    groups: { "acme/platform": { id: 2002, descendantIds: [2004, 2003] } },
  };
  const policy = trustPolicyFor({
    providerArn: "arn:aws:iam::111111111111:oidc-provider/gitlab.com",
    issuerHost: "gitlab.com",
    audiences: [AUD],
    pinIds: true,
    lock,
    allow: [
      { project: "acme/web", branches: ["main", "release/*"] },
      { group: "acme/platform", tags: ["v*"] },
      { project: "acme/web", tags: ["v1"] },
    ],
  });

  test("each grant's IDs and subs share statements; exact and wildcard subs never do", () => {
    // THEN one statement per (pinned IDs, operator): the project's two exact subs merged, the group alone
    expect(
      policy.Statement.map((s) => [
        s.Sid,
        s.Condition.StringEquals["gitlab.com:project_id"] ??
          s.Condition.StringEquals["gitlab.com:namespace_id"],
        s.Condition.StringEquals["gitlab.com:sub"] ?? s.Condition.StringLike?.["gitlab.com:sub"],
      ]),
    ).toEqual([
      [
        "Project1001Exact",
        ["1001"],
        ["project_path:acme/web:ref_type:branch:ref:main", "project_path:acme/web:ref_type:tag:ref:v1"],
      ],
      ["Project1001Wildcard", ["1001"], ["project_path:acme/web:ref_type:branch:ref:release/*"]],
      ["Group2002Wildcard", ["2002", "2003", "2004"], ["project_path:acme/platform/*:ref_type:tag:ref:v*"]],
    ]);
  });

  test("every statement requires aud, a protected ref and sub; no wildcard under StringEquals", () => {
    for (const statement of policy.Statement) {
      expect(statement.Condition.StringEquals["gitlab.com:aud"]).toEqual([AUD]);
      expect(statement.Condition.StringEquals["gitlab.com:ref_protected"]).toEqual(["true"]);
      const subValues = [
        ...(statement.Condition.StringEquals["gitlab.com:sub"] ?? []),
        ...(statement.Condition.StringLike?.["gitlab.com:sub"] ?? []),
      ];
      expect(subValues.length).toBeGreaterThan(0);
      for (const value of statement.Condition.StringEquals["gitlab.com:sub"] ?? [])
        expect(value).not.toMatch(/[*?]/);
    }
  });

  test("withProviderArn: the policy for one provider ARN, moved to another, is the policy built for that one", () => {
    // GIVEN grants under each setting that shapes a statement (IDs pinned or not, a custom sub claim)
    const web = { project: "acme/web", branches: ["main", "release/*"] };
    const platform = { group: "acme/platform", tags: ["v*"] };
    const cases = [
      { issuerHost: "gitlab.com", pinIds: true, lock, allow: [web, platform] },
      { issuerHost: "gitlab.com", pinIds: false, allow: [web, platform] },
      {
        issuerHost: "gitlab.example.com",
        lock,
        subClaim: ["project_id", "ref_type", "ref", "ref_protected"] as SubClaimComponent[],
        allow: [web],
      },
    ];
    for (const props of cases) {
      const audiences = [AUD, OLD_AUD];
      const literal = trustPolicyFor({
        ...props,
        audiences,
        providerArn: "arn:aws:iam::111111111111:oidc-provider/gitlab.com",
      });
      const reference = "${aws_iam_openid_connect_provider.gitlab.arn}";
      // WHEN the checked policy is moved to the stack's reference THEN it is the one built for the reference
      expect(withProviderArn(literal, reference)).toEqual(
        trustPolicyFor({ ...props, audiences, providerArn: reference }),
      );
    }
  });

  test("a grant that cannot be enforced is never built (fails closed, not open)", () => {
    // GIVEN a group grant on gitlab.com with pinning but no lock entry
    // THEN the model refuses to build it rather than leave the IDs out
    expect(() =>
      trustPolicyFor({
        providerArn: "arn",
        issuerHost: "gitlab.com",
        audiences: [AUD],
        pinIds: true,
        allow: [{ group: "acme/platform", tags: ["v*"] }],
      }),
    ).toThrow(/not in the lock file/);
  });
});

describe("StringLike as IAM defines it", () => {
  test.each([
    ["release/*", "release/1.2/hotfix", true],
    ["release/*", "releases/1", false],
    ["v?", "v1", true],
    ["v?", "v10", false],
    ["a*b", "a:x/y:b", true],
    ["Main", "main", false],
    ["a.b", "axb", false],
    ["(x)+", "(x)+", true],
  ])("%s ~ %s → %s", (pattern, value, expected) => {
    expect(stringLike(pattern, value)).toBe(expected);
  });
});

describe("the synthesized example (test/fixtures/configs/example.yaml with its lock)", () => {
  let stacks: SynthesizedStack[];
  let lock: GitLabLock;
  beforeAll(async () => {
    let config;
    ({ stacks, config } = await synthesizedExample());
    lock = config.lock!;
  });

  const production = () => stacks.find((s) => s.name === "production")!;
  const staging = () => stacks.find((s) => s.name === "staging")!;
  const web = (job: Partial<Job> = {}): Job => ({
    project: "acme/web",
    projectId: lock.projects["acme/web"].id,
    namespaceId: lock.projects["acme/web"].namespaceId,
    ...job,
  });
  const platform = (project: string, namespaceId: number, job: Partial<Job> = {}): Job => ({
    project,
    projectId: 99_000_001,
    namespaceId,
    refType: "tag",
    ref: "v1.2.0",
    ...job,
  });

  test.each([
    ["the exact branch", () => web()],
    ["a release branch", () => web({ ref: "release/2.0" })],
    ["a nested release branch", () => web({ ref: "release/2.0/rc.1" })],
    ["a tag in a project of the group", () => platform("acme/platform/api", lock.groups["acme/platform"].id)],
    [
      "a tag in a project of a nested subgroup, through the lock's descendants",
      () => platform("acme/platform/tools/cli/x", lock.groups["acme/platform"].descendantIds[2]),
    ],
    [
      "a tag pipeline started from the web UI",
      () => platform("acme/platform/api", lock.groups["acme/platform"].id, { pipelineSource: "web" }),
    ],
  ])("allows %s", (_name, job) => {
    expect(allows(production(), "gitlab-deploy-web", job())).toBe(true);
  });

  test.each([
    ["an unprotected ref with an allowed name", () => web({ protected: false })],
    ["a recycled path: acme/web, but another project ID", () => web({ projectId: 77_777_777 })],
    ["a token without project_id", () => web({ projectId: undefined })],
    [
      "a recycled group path: the namespace ID is not the locked group's",
      () => platform("acme/platform/api", 55_555_555),
    ],
    ["a subgroup newer than the lock", () => platform("acme/platform/new/x", 48_299_999)],
    [
      "a group project from a merge-request pipeline",
      () =>
        platform("acme/platform/api", lock.groups["acme/platform"].id, {
          pipelineSource: "merge_request_event",
        }),
    ],
    ["another branch of the project", () => web({ ref: "feature/x" })],
    ["a branch that only starts like an allowed one", () => web({ ref: "main-old" })],
    ["a tag named like the allowed branch", () => web({ refType: "tag" })],
    [
      "a sibling namespace with a suffix",
      () => platform("acme/platform-evil/api", lock.groups["acme/platform"].id),
    ],
    ["the group itself as a project path", () => platform("acme/platform", lock.groups["acme/platform"].id)],
    ["another namespace with the same project name", () => web({ project: "evil/acme/web" })],
    ["a differently cased project", () => web({ project: "Acme/Web" })],
    ["another audience", () => web({ aud: "https://evil.example" })],
  ])("denies %s", (_name, job) => {
    expect(allows(production(), "gitlab-deploy-web", job())).toBe(false);
  });

  test("cross-pairing: the project's sub with a group project's ID is denied, and the group's sub with the project's ID", () => {
    // GIVEN a group project ID paired with acme/web's sub, and acme/web's IDs with a group project's sub
    const groupId = lock.groups["acme/platform"].id;
    expect(
      allows(production(), "gitlab-deploy-web", web({ projectId: 99_000_001, namespaceId: groupId })),
    ).toBe(false);
    expect(
      allows(
        production(),
        "gitlab-deploy-web",
        platform("acme/platform/api", lock.projects["acme/web"].namespaceId),
      ),
    ).toBe(false);
  });

  test("staging: any branch of acme/web, protected or not (protected: false), no tag, no other project", () => {
    expect(allows(staging(), "gitlab-deploy-web", web({ ref: "anything/at/all", protected: false }))).toBe(
      true,
    );
    expect(allows(staging(), "gitlab-deploy-web", web({ refType: "tag", ref: "v1" }))).toBe(false);
    expect(allows(staging(), "gitlab-deploy-web", web({ project: "acme/webx" }))).toBe(false);
    expect(allows(staging(), "gitlab-deploy-web", web({ projectId: 5 }))).toBe(false);
    const infra = (job: Partial<Job>) =>
      platform("acme/platform/infra", lock.groups["acme/platform"].descendantIds[0], {
        refType: "branch",
        ref: "main",
        ...job,
      });
    expect(allows(staging(), "gitlab-terraform-plan", infra({}))).toBe(true);
    expect(allows(staging(), "gitlab-terraform-plan", infra({ protected: false }))).toBe(false);
    expect(allows(staging(), "gitlab-terraform-plan", infra({ ref: "develop" }))).toBe(false);
  });

  test("every role of the example fits IAM's default quota", () => {
    const lengths = stacks.flatMap((s) =>
      s.roles.map((r) => [`${s.name}/${r.name}`, policyLength(concrete(s, r.trustPolicy))] as const),
    );
    console.log(`example trust policy lengths: ${lengths.map(([n, l]) => `${n} ${l}`).join(", ")}`);
    for (const [, length] of lengths) expect(length).toBeLessThanOrEqual(2048);
  });
});

/** The policy with the provider's Terraform reference replaced by the ARN it resolves to. */
function concrete(stack: SynthesizedStack, policy: IamPolicyDocument): IamPolicyDocument {
  const arn = `arn:aws:iam::${stack.accountId}:oidc-provider/${stack.providerUrl.replace(/^https:\/\//, "")}`;
  return { ...policy, Statement: policy.Statement.map((s) => ({ ...s, Principal: { Federated: [arn] } })) };
}

describe("no cross-pairing between grants (synthesized)", () => {
  // GIVEN two projects with different refs, and a group with tags only
  const raw = minimalConfig({
    allow: [
      { project: "acme/web", branches: ["main"] },
      { project: "acme/api", branches: ["release/*"] },
      { group: "acme/libs", tags: ["v*"] },
    ],
  });
  const lock = lockFor(raw, { "acme/libs": [9301, 9302] });
  const web = lock.projects["acme/web"];
  const api = lock.projects["acme/api"];
  let stack: SynthesizedStack;
  let cleanup: () => void;
  beforeAll(async () => {
    let stacks: SynthesizedStack[];
    ({ stacks, cleanup } = await synthesized(raw, lock));
    stack = stacks[0];
  });
  afterAll(() => cleanup());

  test.each([
    ["acme/web's main with its own ID", { project: "acme/web", projectId: web.id }, true],
    [
      "acme/api's release branch with its own ID",
      { project: "acme/api", projectId: api.id, ref: "release/1" },
      true,
    ],
    ["acme/web's sub (main) with acme/api's ID", { project: "acme/web", projectId: api.id }, false],
    ["acme/api's path on main with acme/web's ID", { project: "acme/api", projectId: web.id }, false],
    [
      "acme/web's path on a release branch with its own ID",
      { project: "acme/web", projectId: web.id, ref: "release/1" },
      false,
    ],
    [
      "acme/web's path with acme/api's ID on acme/api's branch",
      { project: "acme/web", projectId: api.id, ref: "release/1" },
      false,
    ],
    [
      "a libs project's tag in a subgroup",
      { project: "acme/libs/x/y", namespaceId: 9302, refType: "tag", ref: "v2" },
      true,
    ],
    [
      "a libs project's branch main (acme/web's ref) in a libs namespace",
      { project: "acme/libs/x", namespaceId: 9301, projectId: web.id },
      false,
    ],
    [
      "acme/web's main with a libs namespace ID",
      { project: "acme/web", projectId: 5, namespaceId: 9301 },
      false,
    ],
  ] as [string, Job, boolean][])("%s → %s", (_name, job, expected) => {
    expect(allows(stack, "deploy", job)).toBe(expected);
  });
});

/** Jobs of acme/web on the self-managed instance whose projects use `subClaim`. */
const selfManagedJob =
  (subClaim: readonly SubClaimComponent[]) =>
  (job: Partial<Job>): Job => ({ project: "acme/web", subClaim, aud: AUD, ...job });

describe("self-managed and custom sub claims (synthesized)", () => {
  const selfManaged = (gitlab: Record<string, unknown>, allow: unknown[]) => ({
    ...minimalConfig({ allow }),
    gitlab: { url: "https://gitlab.example.com", ...gitlab },
  });

  test("self-managed without ref_protected in sub: a protected grant is refused, naming the grant and both fixes", () => {
    const problems = problemsOf(selfManaged({}, [{ project: "acme/web", branches: ["main"] }]));
    expect(problems).toEqual([
      expect.stringContaining(
        "accounts[0].roles[0].allow[0].protected: protected refs cannot be checked on gitlab.example.com",
      ),
    ]);
    expect(problems[0]).toContain("add ref_protected to gitlab.subClaim");
    expect(problems[0]).toContain("write protected: false on purpose");
    // AND protected: false on purpose is accepted
    expect(
      problemsOf(selfManaged({}, [{ project: "acme/web", branches: ["main"], protected: false }])),
    ).toEqual([]);
  });

  test("self-managed with ref_protected in sub: unprotected refs are denied through sub", async () => {
    const subClaim: SubClaimComponent[] = ["project_path", "ref_type", "ref", "ref_protected"];
    const { stacks, cleanup } = await synthesized(
      selfManaged({ subClaim }, [
        { project: "acme/web", branches: ["main", "release/*"] },
        { project: "acme/tools", branches: ["*"], protected: false },
      ]),
    );
    try {
      const job = selfManagedJob(subClaim);
      expect(allows(stacks[0], "deploy", job({}))).toBe(true);
      expect(allows(stacks[0], "deploy", job({ ref: "release/1" }))).toBe(true);
      expect(allows(stacks[0], "deploy", job({ protected: false }))).toBe(false);
      expect(allows(stacks[0], "deploy", job({ ref: "release/1", protected: false }))).toBe(false);
      expect(allows(stacks[0], "deploy", job({ project: "acme/tools", ref: "x", protected: false }))).toBe(
        true,
      );
      expect(allows(stacks[0], "deploy", job({ project: "acme/tools", ref: "x" }))).toBe(true);
      // AND a token whose sub lacks ref_protected (the project's components differ from the config) is denied
      expect(allows(stacks[0], "deploy", job({ subClaim: DEFAULT_SUB_CLAIM }))).toBe(false);
    } finally {
      cleanup();
    }
  });

  test("project_id-first sub: projects are pinned through sub; renames keep access, recycled paths do not", async () => {
    const subClaim: SubClaimComponent[] = ["project_id", "ref_type", "ref", "ref_protected"];
    const raw = selfManaged({ subClaim }, [{ project: "acme/web", branches: ["main"] }]);
    const lock = lockFor(raw);
    const id = lock.projects["acme/web"].id;
    const { stacks, cleanup } = await synthesized(raw, lock);
    try {
      const statement = stacks[0].roles[0].trustPolicy.Statement[0];
      expect(statement.Condition.StringEquals["gitlab.example.com:sub"]).toEqual([
        `project_id:${id}:ref_type:branch:ref:main:ref_protected:true`,
      ]);
      const job = (j: Partial<Job>): Job => ({
        project: "acme/web",
        projectId: id,
        subClaim,
        aud: AUD,
        ...j,
      });
      expect(allows(stacks[0], "deploy", job({}))).toBe(true);
      expect(allows(stacks[0], "deploy", job({ project: "acme/renamed-web" }))).toBe(true);
      expect(allows(stacks[0], "deploy", job({ projectId: id + 1 }))).toBe(false);
      expect(allows(stacks[0], "deploy", job({ protected: false }))).toBe(false);
    } finally {
      cleanup();
    }
  });

  test("project_id-first sub: a group grant is refused where AWS supplies no namespace_id", () => {
    const problems = problemsOf(
      selfManaged({ subClaim: ["project_id", "ref_type", "ref", "ref_protected"] }, [
        { group: "acme", branches: ["main"] },
      ]),
    );
    expect(problems).toEqual([
      expect.stringMatching(
        /allow\[0\]\.group: with a sub claim that starts with project_id, a group grant cannot be checked on gitlab\.example\.com/,
      ),
    ]);
  });

  test("project_id-first sub on gitlab.com: a group grant is pinned by namespace_id", async () => {
    const subClaim: SubClaimComponent[] = ["project_id", "ref_type", "ref"];
    const raw = {
      ...minimalConfig({ allow: [{ group: "acme", tags: ["v*"] }] }),
      gitlab: { url: OLD_AUD, subClaim },
    };
    const lock = lockFor(raw, { acme: [8801] });
    const { stacks, cleanup } = await synthesized(raw, lock);
    try {
      const job = (j: Partial<Job>): Job => ({
        project: "acme/x",
        projectId: 5,
        subClaim,
        refType: "tag",
        ref: "v1",
        ...j,
      });
      expect(allows(stacks[0], "deploy", job({ namespaceId: 8801 }))).toBe(true);
      expect(allows(stacks[0], "deploy", job({ namespaceId: lock.groups.acme.id }))).toBe(true);
      expect(allows(stacks[0], "deploy", job({ namespaceId: 1 }))).toBe(false);
      expect(allows(stacks[0], "deploy", job({}))).toBe(false);
    } finally {
      cleanup();
    }
  });

  test("environment components: a grant allows jobs with and without an environment, as GitLab skips absent values", async () => {
    // Every component GitLab accepts, the path first.
    const subClaim = SUB_CLAIM_COMPONENTS.filter((c) => c !== "project_id");
    const { stacks, cleanup } = await synthesized(
      selfManaged({ subClaim }, [{ project: "acme/web", branches: ["main"] }]),
    );
    try {
      const job = selfManagedJob(subClaim);
      expect(allows(stacks[0], "deploy", job({}))).toBe(true);
      expect(allows(stacks[0], "deploy", job({ environment: { protected: true, tier: "production" } }))).toBe(
        true,
      );
      expect(allows(stacks[0], "deploy", job({ environment: { protected: false, tier: "staging" } }))).toBe(
        true,
      );
      expect(
        allows(
          stacks[0],
          "deploy",
          job({ protected: false, environment: { protected: true, tier: "production" } }),
        ),
      ).toBe(false);
      expect(
        allows(
          stacks[0],
          "deploy",
          job({ ref: "main2", environment: { protected: true, tier: "production" } }),
        ),
      ).toBe(false);
    } finally {
      cleanup();
    }
  });

  test("a sub without ref_type or ref refuses branch grants, and anyRef needs no ref", () => {
    const sub = (subClaim: string[], allow: unknown[]) =>
      problemsOf({ ...minimalConfig({ allow }), gitlab: { url: OLD_AUD, subClaim } });
    expect(sub(["project_path", "ref"], [{ project: "acme/web", branches: ["main"] }])).toEqual([
      expect.stringMatching(/allow\[0\]\.branches: gitlab\.subClaim \(project_path, ref\) has no ref_type/),
    ]);
    expect(sub(["project_path"], [{ project: "acme/web", anyRef: true }])).toEqual([]);
    expect(sub(["ref", "project_path"], [{ project: "acme/web", anyRef: true }])).toEqual([
      expect.stringContaining(
        "gitlab.subClaim: the first sub claim component must be project_path or project_id",
      ),
      expect.stringContaining("gitlab.subClaim[1]: project_path can only be the first component"),
    ]);
  });

  test("custom issuer: the provider URL and condition keys follow gitlab.issuer", async () => {
    const subClaim: SubClaimComponent[] = ["project_path", "ref_type", "ref", "ref_protected"];
    const { stacks, cleanup } = await synthesized(
      selfManaged({ issuer: "https://oidc.example.com/gitlab", subClaim }, [
        { project: "acme/web", branches: ["main"] },
      ]),
    );
    try {
      expect(stacks[0].providerUrl).toBe("https://oidc.example.com/gitlab");
      const keys = Object.keys(stacks[0].roles[0].trustPolicy.Statement[0].Condition.StringEquals);
      expect(keys.sort()).toEqual(["oidc.example.com/gitlab:aud", "oidc.example.com/gitlab:sub"]);
      // The audience is the default, and a token of that issuer is allowed.
      expect(allows(stacks[0], "deploy", { project: "acme/web", subClaim, aud: AUD })).toBe(true);
    } finally {
      cleanup();
    }
  });
});

describe("grant options and audiences (synthesized)", () => {
  test("pipelineSources on gitlab.com; refused elsewhere because the key would be missing", async () => {
    const { stacks, cleanup } = await synthesized(
      minimalConfig({
        allow: [
          {
            project: "acme/web",
            branches: ["main"],
            pipelineSources: ["push", "web"],
            runnerEnvironment: "gitlab-hosted",
          },
        ],
      }),
    );
    try {
      const lock = lockFor(minimalConfig({ allow: [{ project: "acme/web", branches: ["main"] }] }));
      const job = (j: Partial<Job>): Job => ({
        project: "acme/web",
        projectId: lock.projects["acme/web"].id,
        runnerEnvironment: "gitlab-hosted",
        ...j,
      });
      expect(allows(stacks[0], "deploy", job({}))).toBe(true);
      expect(allows(stacks[0], "deploy", job({ pipelineSource: "web" }))).toBe(true);
      expect(allows(stacks[0], "deploy", job({ pipelineSource: "merge_request_event" }))).toBe(false);
      expect(allows(stacks[0], "deploy", job({ runnerEnvironment: "self-hosted" }))).toBe(false);
    } finally {
      cleanup();
    }
    expect(
      problemsOf({
        ...minimalConfig({
          allow: [{ project: "acme/web", branches: ["main"], protected: false, pipelineSources: ["push"] }],
        }),
        gitlab: { url: "https://gitlab.example.com" },
      }),
    ).toEqual([
      expect.stringContaining(
        "allow[0].pipelineSources: AWS supplies pipeline_source only for the gitlab.com provider; for gitlab.example.com it supplies aud and sub only, so a condition on gitlab.example.com:pipeline_source would find the key missing and deny every job",
      ),
    ]);
  });

  test("userAccessLevels on gitlab.com: a maintainer's job is admitted, a developer's denied; refused elsewhere", async () => {
    // GIVEN a deployer that also requires the user's project role, synthesized to HCL and read back
    const raw = minimalConfig({
      allow: [{ project: "acme/web", branches: ["main"], userAccessLevels: ["maintainer", "owner"] }],
    });
    const { stacks, cleanup } = await synthesized(raw);
    try {
      const lock = lockFor(raw);
      const job = (j: Partial<Job>): Job => ({
        project: "acme/web",
        projectId: lock.projects["acme/web"].id,
        ...j,
      });
      // THEN the trust policy holds the key in the grant's statement, and only the listed roles pass
      const statements = stacks[0].roles.find((r) => r.name === "deploy")?.trustPolicy.Statement ?? [];
      expect(statements.map((st) => st.Condition.StringEquals?.["gitlab.com:user_access_level"])).toEqual([
        ["maintainer", "owner"],
      ]);
      expect(allows(stacks[0], "deploy", job({ userAccessLevel: "maintainer" }))).toBe(true);
      expect(allows(stacks[0], "deploy", job({ userAccessLevel: "owner" }))).toBe(true);
      expect(allows(stacks[0], "deploy", job({ userAccessLevel: "developer" }))).toBe(false);
      expect(allows(stacks[0], "deploy", job({ userAccessLevel: "Maintainer" }))).toBe(false);
    } finally {
      cleanup();
    }
    // AND on a self-managed issuer (AWS supplies no user_access_level key there) the config is refused
    expect(
      problemsOf({
        ...minimalConfig({
          allow: [
            { project: "acme/web", branches: ["main"], protected: false, userAccessLevels: ["maintainer"] },
          ],
        }),
        gitlab: { url: "https://gitlab.example.com" },
      }),
    ).toEqual([
      expect.stringContaining(
        "allow[0].userAccessLevels: AWS supplies user_access_level only for the gitlab.com provider; for gitlab.example.com it supplies aud and sub only",
      ),
    ]);
    // AND a misspelt level is refused with the levels GitLab spells
    expect(
      problemsOf(
        minimalConfig({ allow: [{ project: "acme/web", branches: ["main"], userAccessLevels: ["admin"] }] }),
      ),
    ).toEqual([
      expect.stringContaining(
        "a user access level is one of guest, planner, reporter, developer, maintainer, owner",
      ),
    ]);
  });

  test("a role's own audience replaces gitlab.audience for it; the provider accepts the union", async () => {
    const raw = minimalConfig({ audience: OLD_AUD });
    (raw.accounts as Record<string, unknown>[])[0].roles = [
      ...((raw.accounts as Record<string, unknown>[])[0].roles as unknown[]),
      { name: "other", allow: [{ project: "acme/web", branches: ["main"] }] },
    ];
    const lock = lockFor(raw);
    const { stacks, cleanup } = await synthesized(raw, lock);
    try {
      const job = (aud: string): Job => ({
        project: "acme/web",
        projectId: lock.projects["acme/web"].id,
        aud,
      });
      expect(allows(stacks[0], "deploy", job(OLD_AUD))).toBe(true);
      expect(allows(stacks[0], "deploy", job(AUD))).toBe(false);
      expect(allows(stacks[0], "other", job(AUD))).toBe(true);
      expect(allows(stacks[0], "other", job(OLD_AUD))).toBe(false);
      expect(stacks[0].providerAudiences).toEqual([AUD, OLD_AUD]);
    } finally {
      cleanup();
    }
  });

  test("a path missing from the lock names the path and npm run resolve", () => {
    expect(problemsOf(minimalConfig(), { projects: {}, groups: {} })).toEqual([
      expect.stringMatching(
        /allow\[0\]\.project: project acme\/web is not in the lock file .*run npm run resolve/,
      ),
    ]);
  });

  test("pinIds: false on gitlab.com matches by path only; pinIds: true elsewhere is refused", async () => {
    const raw = { ...minimalConfig(), gitlab: { url: OLD_AUD, pinIds: false } };
    const { stacks, cleanup } = await synthesized(raw, { projects: {}, groups: {} });
    try {
      expect(allows(stacks[0], "deploy", { project: "acme/web", projectId: 123 })).toBe(true);
    } finally {
      cleanup();
    }
    expect(
      problemsOf({
        ...minimalConfig({ allow: [{ project: "acme/web", branches: ["main"], protected: false }] }),
        gitlab: { url: "https://gitlab.example.com", pinIds: true },
      }),
    ).toEqual([
      expect.stringContaining(
        "gitlab.pinIds: AWS supplies project_id and namespace_id only for the gitlab.com provider",
      ),
    ]);
  });
});

describe("trust policy length", () => {
  /** What aws_iam_policy_document renders (Go encoding/json: single values flattened, <>& escaped). */
  function renderedLikeTheProvider(policy: IamPolicyDocument): string {
    const flat = (values: readonly string[]) => (values.length === 1 ? values[0] : values);
    const document = {
      Version: policy.Version,
      Statement: policy.Statement.map((s) => ({
        Sid: s.Sid,
        Effect: s.Effect,
        Action: flat(s.Action),
        Principal: { Federated: flat(s.Principal.Federated) },
        Condition: Object.fromEntries(
          Object.entries(s.Condition).map(([op, keys]) => [
            op,
            Object.fromEntries(Object.entries(keys).map(([k, v]) => [k, flat(v)])),
          ]),
        ),
      })),
    };
    return JSON.stringify(document).replace(
      /[<>&\u2028\u2029]/g,
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
    );
  }

  test("GIVEN 2,000 random documents WHEN measured THEN policyLength is the length of their rendering", () => {
    // Strings with what the count treats specially (escapes, pairs, lone surrogates, quotes, controls);
    // values of every JSON kind, one-element lists, undefined members, and a few non-plain values.
    const random = seeded(2048);
    const pieces = [
      "a",
      "<",
      ">",
      "&",
      "\u2028",
      "\u2029",
      "😀",
      "\uD83D",
      "\uDE00",
      '"',
      "\\",
      "\n",
      "\u0001",
      "\t",
      "\u007f",
      "\u001f",
      "é",
      "",
    ];
    const text = () => randomText(random, pieces, 4);
    const value = (depth: number): unknown => {
      const kind = random(depth > 3 ? 6 : 10);
      if (kind < 3) return text();
      if (kind === 3) return [0, -0, 1.5, -7e-9, 1e21][random(5)];
      if (kind === 4) return [true, false, null][random(3)];
      if (kind === 5) return random(40) === 0 ? [NaN, undefined, new Date(0)][random(3)] : text();
      if (kind < 8) return Array.from({ length: random(4) }, () => value(depth + 1));
      return Object.fromEntries(
        Array.from({ length: random(4) }, () => [text(), random(8) === 0 ? undefined : value(depth + 1)]),
      );
    };
    /** A length, or the error measuring threw (a document that renders to nothing throws in both). */
    const outcome = (measure: (document: unknown) => number, document: unknown) => {
      try {
        return measure(document);
      } catch (error) {
        return String(error);
      }
    };
    let measured = 0;
    // One assertion over all of them (an expect per document was most of the test's time).
    const differing: { document: unknown; length: number | string; definition: number | string }[] = [];
    for (let i = 0; i < 2000; i++) {
      const document = value(0);
      const length = outcome(policyLength, document);
      if (typeof length === "number") measured++;
      const definition = outcome(policyLengthOfJson, document);
      if (length !== definition) differing.push({ document, length, definition });
    }
    expect(differing).toEqual([]);
    expect(measured).toBeGreaterThan(1900);
  });

  test("policyLength counts code points: a surrogate pair is one character, a lone surrogate one", () => {
    // GIVEN documents with a character outside the BMP (two UTF-16 units) and lone surrogates
    for (const value of ["v-😀-𝒳", "\uD83D-alone", "\uDE00\uD83D"]) {
      const document = { Version: "2012-10-17", Statement: [{ Sid: value }] };
      // WHEN measured THEN it is the rendered JSON's length in code points
      expect(policyLength(document)).toBe(
        [...JSON.stringify({ Version: "2012-10-17", Statement: { Sid: value } })].length,
      );
    }
    expect(policyLength({ Sid: "😀" })).toBe('{"Sid":"😀"}'.length - 1);
  });

  test("policyLength equals the length of the rendered JSON read back from the HCL, escapes included", async () => {
    // GIVEN refs with characters Go's encoder escapes, several IDs and patterns
    const raw = minimalConfig({
      allow: [
        { project: "acme/web", branches: ["main", "a&b", "x<y>z", "release/*"], pipelineSources: ["push"] },
        { group: "acme/platform", tags: ["v*", "é-ü"] },
      ],
    });
    const lock = lockFor(raw, { "acme/platform": [3, 1, 2] });
    const { stacks, cleanup } = await synthesized(raw, lock);
    try {
      const policy = concrete(stacks[0], stacks[0].roles[0].trustPolicy);
      const rendered = renderedLikeTheProvider(policy);
      expect(policyLength(policy)).toBe([...rendered].length);
      expect(rendered).toContain("a\\u0026b");
    } finally {
      cleanup();
    }
  });

  test("the length the config check reports is the rendered length of what is synthesized, for every statement shape", async () => {
    // GIVEN a role with every new shape: a custom issuer with a path (the provider ARN carries it), the
    // aws-cn partition, an existing provider, its own list of audiences (one with a character Go escapes),
    // ref_protected and the environment parts in sub (exact and pattern statements), protected and
    // unprotected grants, a group, and a pipeline-source condition
    const raw = (trustPolicyLength: number) => ({
      gitlab: {
        url: "https://git.example.com",
        issuer: "https://oidc.example.com/gitlab",
        subClaim: [
          "project_path",
          "ref_type",
          "ref",
          "ref_protected",
          "environment_protected",
          "deployment_tier",
        ],
      },
      limits: { trustPolicyLength },
      accounts: [
        {
          name: "cn",
          accountId: "123456789012",
          region: "cn-north-1",
          partition: "aws-cn",
          provider: "existing",
          roles: [
            {
              name: "r",
              audience: ["aud-1", "aud&2"],
              allow: [
                { project: "acme/web", branches: ["main", "release/*"], tags: ["v1.0"] },
                { project: "acme/web", branches: ["feature/*"], protected: false },
                { project: "acme/api", branches: ["main", "develop"] },
                { group: "acme/platform", tags: ["v*"] },
              ],
            },
          ],
        },
      ],
    });
    const { stacks, cleanup } = await synthesized(raw(8192), { projects: {}, groups: {} });
    let rendered: string;
    try {
      const stack = stacks[0];
      const arn = `arn:aws-cn:iam::123456789012:oidc-provider/oidc.example.com/gitlab`;
      const policy = stack.roles[0].trustPolicy;
      rendered = renderedLikeTheProvider({
        ...policy,
        Statement: policy.Statement.map((st) => ({ ...st, Principal: { Federated: [arn] } })),
      });
    } finally {
      cleanup();
    }
    const length = [...rendered].length;
    expect(rendered).toContain('"StringLike"');
    expect(rendered).toContain("aud\\u00262");
    expect(length).toBeGreaterThan(2048);
    // WHEN the same config is checked against the default quota
    const problems = problemsOf(raw(2048), { projects: {}, groups: {} });
    // THEN it is refused with exactly that length
    expect(problems.join("\n")).toContain(
      `the trust policy would be ${length} characters, over the 2048-character quota`,
    );
  });

  test("measured: one pinned project costs about 330 characters; quotas of realistic configs", () => {
    const lengthOf = (allow: unknown[], extra: Record<string, unknown> = {}) => {
      const raw = { ...minimalConfig({ allow }), ...extra };
      const config = parse(raw, lockFor(raw));
      const { gitlab, lock } = config;
      const policy = trustPolicyFor({
        providerArn: "arn:aws:iam::111111111111:oidc-provider/gitlab.com",
        issuerHost: "gitlab.com",
        audiences: [gitlab.url],
        pinIds: gitlab.pinIds ?? true,
        ...(gitlab.subClaim ? { subClaim: gitlab.subClaim } : {}),
        ...(lock ? { lock } : {}),
        allow: config.accounts[0].roles[0].allow,
      });
      return policyLength(policy);
    };
    const projects = (n: number) =>
      Array.from({ length: n }, (_, i) => ({ project: `acme/service-${i}`, branches: ["main"] }));
    const numbers = {
      onePinned: lengthOf(projects(1)),
      fivePinned: lengthOf(projects(5)),
      fiveByPath: lengthOf(projects(5), { gitlab: { url: OLD_AUD, pinIds: false } }),
      fiveByIdInSub: lengthOf(projects(5), {
        gitlab: { url: OLD_AUD, subClaim: ["project_id", "ref_type", "ref"] },
      }),
      groupAndProjectWithPatterns: lengthOf([
        { project: "acme/web", branches: ["main", "release/*"] },
        { group: "acme/platform", tags: ["v*"] },
      ]),
    };
    console.log(`trust policy lengths: ${JSON.stringify(numbers)}`);
    // THEN pinning grows the policy by one statement per project (a sub starting with project_id does not)
    expect(numbers.fivePinned - numbers.onePinned).toBeGreaterThan(4 * 250);
    expect(numbers.fiveByIdInSub).toBeLessThan(numbers.fivePinned / 2);
    expect(numbers.groupAndProjectWithPatterns).toBeLessThanOrEqual(2048);
  });
});
