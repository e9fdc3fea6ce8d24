/**
 * The pipeline's own roles as docs/pipeline.md configures them, synthesized and evaluated with the
 * project's IAM evaluator: the deployer accepts only the deploy job's token (its own audience) from a
 * push pipeline of the protected default branch of this project (pinned by ID); the planner accepts the
 * plan jobs of merge requests too, and nothing reaches the deployer with a plan job's token.
 */
import { evaluateTrustPolicy } from "../src/iam/evaluate";
import { requestContextFor } from "../src/model/claims";
import { deployAudience } from "../src/pipeline/stack-jobs";
import type { SynthesizedStack } from "../src/terraform/synthesized-stacks";
import { fakeId, lockFor, minimalConfig, parse, synthesizeToTemp } from "./support/configs";
import { StsStandIn } from "./support/sts-stand-in";

const PROJECT = "acme/platform/gitlab-oidc-aws";
const PLAN_AUDIENCE = "sts.amazonaws.com";
/** The deploy jobs of stack production ask for this audience, staging's for their own. */
const DEPLOY_AUDIENCE = deployAudience("production");

/** The roles of docs/pipeline.md, "The pipeline's roles in gitlab-oidc.yaml". */
const raw = minimalConfig(
  {},
  {
    roles: [
      {
        name: "platform-deployer",
        audience: DEPLOY_AUDIENCE,
        allow: [
          {
            project: PROJECT,
            branches: ["main"],
            protected: true,
            pipelineSources: ["push"],
            userAccessLevels: ["maintainer", "owner"],
          },
        ],
        managedPolicyArns: ["arn:aws:iam::aws:policy/IAMFullAccess"],
        path: "/gitlab/",
      },
      {
        name: "platform-planner",
        allow: [{ project: PROJECT, branches: ["*"], protected: false }],
        managedPolicyArns: ["arn:aws:iam::aws:policy/IAMReadOnlyAccess"],
        path: "/gitlab/",
      },
    ],
  },
);

interface Job {
  readonly aud: string;
  readonly ref?: string;
  readonly protectedRef?: boolean;
  readonly pipelineSource?: string;
  readonly project?: string;
  readonly projectId?: number;
  /** The project role of whoever pressed play. @default "maintainer" */
  readonly userAccessLevel?: string;
}

/** The claims GitLab puts in a job's token (gitlab.com, default sub claim). */
function claims(job: Job): Record<string, string> {
  const project = job.project ?? PROJECT;
  const ref = job.ref ?? "main";
  return {
    sub: `project_path:${project}:ref_type:branch:ref:${ref}`,
    project_path: project,
    project_id: String(job.projectId ?? fakeId(PROJECT)),
    namespace_id: String(fakeId(PROJECT.split("/").slice(0, -1).join("/"), 1)),
    ref_type: "branch",
    ref,
    ref_protected: String(job.protectedRef ?? ref === "main"),
    pipeline_source: job.pipelineSource ?? "push",
    runner_environment: "self-hosted",
    user_access_level: job.userAccessLevel ?? "maintainer",
  };
}

function allows(stack: SynthesizedStack, role: string, job: Job): boolean {
  const found = stack.roles.find((r) => r.name === role)!;
  return evaluateTrustPolicy(found.trustPolicy, {
    federatedPrincipal: stack.providerReference,
    context: requestContextFor("gitlab.com", claims(job), job.aud),
  }).allowed;
}

describe("the pipeline's roles (deployer with its own audience, push only; read-only planner)", () => {
  let stack: SynthesizedStack;
  let cleanup: () => void;
  beforeAll(async () => {
    // GIVEN the deployer and planner of docs/pipeline.md, synthesized
    const result = await synthesizeToTemp(parse(raw));
    stack = result.stacks[0]!;
    cleanup = result.cleanup;
  });
  afterAll(() => cleanup());

  test("the OIDC provider accepts the deploy audience as a client ID", () => {
    expect(stack.providerAudiences).toEqual(expect.arrayContaining([PLAN_AUDIENCE, DEPLOY_AUDIENCE]));
  });

  test("the deploy job's token of a push pipeline on protected main gets the deployer", () => {
    expect(allows(stack, "platform-deployer", { aud: DEPLOY_AUDIENCE })).toBe(true);
  });

  test.each<[string, Job]>([
    ["a plan job of the same main pipeline (its audience)", { aud: PLAN_AUDIENCE }],
    [
      "a merge-request plan job that asks for the deploy audience",
      { aud: DEPLOY_AUDIENCE, ref: "feature", protectedRef: false },
    ],
    ["a scheduled pipeline's deploy job", { aud: DEPLOY_AUDIENCE, pipelineSource: "schedule" }],
    ["a web (Run pipeline) deploy job", { aud: DEPLOY_AUDIENCE, pipelineSource: "web" }],
    ["an API or trigger pipeline's deploy job", { aud: DEPLOY_AUDIENCE, pipelineSource: "api" }],
    ["main while unprotected", { aud: DEPLOY_AUDIENCE, protectedRef: false }],
    ["main's deploy job played by a Developer", { aud: DEPLOY_AUDIENCE, userAccessLevel: "developer" }],
    ["the staging stack's deploy job (its own audience)", { aud: deployAudience("staging") }],
    ["another project that took over the path (another ID)", { aud: DEPLOY_AUDIENCE, projectId: 7 }],
    [
      "a fork's merge request (its own project claims)",
      { aud: DEPLOY_AUDIENCE, project: "mallory/gitlab-oidc-aws" },
    ],
  ])("the deployer refuses %s", (_, job) => {
    expect(allows(stack, "platform-deployer", job)).toBe(false);
  });

  test("the planner takes plan jobs of merge requests and of main, but not a deploy-audience token", () => {
    expect(
      allows(stack, "platform-planner", {
        aud: PLAN_AUDIENCE,
        ref: "feature",
        protectedRef: false,
        pipelineSource: "merge_request_event",
      }),
    ).toBe(true);
    expect(allows(stack, "platform-planner", { aud: PLAN_AUDIENCE })).toBe(true);
    expect(allows(stack, "platform-planner", { aud: DEPLOY_AUDIENCE })).toBe(false);
  });
});

describe("one deployer audience per stack, through the STS stand-in", () => {
  let standIn: StsStandIn;
  let cleanup: () => void;
  const deployer = (account: string) => `arn:aws:iam::${account}:role/gitlab/platform-deployer`;
  beforeAll(async () => {
    // GIVEN production (111…) and staging (222…), each with a deployer that accepts its own stack's
    // deploy audience, synthesized, and STS standing in for both accounts
    const deployerRole = (stack: string) => ({
      name: "platform-deployer",
      audience: deployAudience(stack),
      allow: [{ project: PROJECT, branches: ["main"], userAccessLevels: ["maintainer", "owner"] }],
      managedPolicyArns: ["arn:aws:iam::aws:policy/IAMFullAccess"],
      path: "/gitlab/",
    });
    const base = minimalConfig();
    const [production] = base.accounts as Record<string, unknown>[];
    const config = {
      ...base,
      accounts: [
        { ...production, roles: [deployerRole("production")] },
        { ...production, name: "staging", accountId: "222222222222", roles: [deployerRole("staging")] },
      ],
    };
    const result = await synthesizeToTemp(parse(config));
    cleanup = result.cleanup;
    standIn = await StsStandIn.start(result.dir, lockFor(config));
  });
  afterAll(async () => {
    await standIn.close();
    cleanup();
  });

  async function assume(roleArn: string, aud: string, level = "maintainer"): Promise<string> {
    const token = standIn.mintToken({
      sub: `project_path:${PROJECT}:ref_type:branch:ref:main`,
      aud,
      user_access_level: level,
    });
    const body = new URLSearchParams({
      Action: "AssumeRoleWithWebIdentity",
      Version: "2011-06-15",
      RoleArn: roleArn,
      RoleSessionName: "test",
      WebIdentityToken: token,
    });
    const response = await fetch(standIn.url, { method: "POST", body });
    const text = await response.text();
    return /<Code>(\w+)<\/Code>/.exec(text)?.[1] ?? (response.ok ? "OK" : `HTTP ${response.status}`);
  }

  test("the staging deploy job's token is denied by the production deployer", async () => {
    // Production's OIDC provider does not even list staging's audience as a client ID (STS says
    // InvalidIdentityToken before the trust policy, which would deny it too: the table above).
    expect(await assume(deployer("111111111111"), deployAudience("staging"))).toBe("InvalidIdentityToken");
  });

  test("each deploy job's token gets its own stack's deployer", async () => {
    expect(await assume(deployer("111111111111"), deployAudience("production"))).toBe("OK");
    expect(await assume(deployer("222222222222"), deployAudience("staging"))).toBe("OK");
    expect(await assume(deployer("222222222222"), deployAudience("production"))).toBe("InvalidIdentityToken");
  });

  test("a deploy job played by a Developer is denied by its own stack's deployer", async () => {
    expect(await assume(deployer("111111111111"), deployAudience("production"), "developer")).toBe(
      "AccessDenied",
    );
    expect(await assume(deployer("111111111111"), deployAudience("production"), "owner")).toBe("OK");
  });
});
