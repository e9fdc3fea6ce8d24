/**
 * End to end: the component as other projects include it, `include: component: <host>/<path>/aws-credentials@<version>`.
 * This repository (a copy of the working tree, with release tags) is served by a git smart-HTTP server on
 * 127.0.0.1; a consumer repository whose `origin` is that server runs jobs with gitlab-ci-local, which
 * resolves the version from the tags and clones the component, and the real AWS CLI talks to the STS
 * stand-in. Also: the same-project form at the current SHA, and inputs refused at parse time.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import {
  createConsumerRepo,
  expectNoSecrets as expectNoSecretsIn,
  missingPrerequisites,
  PRODUCTION_SESSION as PRODUCTION,
  repoRoot,
  runJobs,
  STAGING_SESSION as STAGING,
  type JobRun,
} from "../support/ci-local";
import { stsRuleSetDataPath as ruleSetDataPath } from "../support/component-shell";
import {
  git,
  publishComponentProject,
  templateVersion,
  type ComponentProject,
} from "../support/component-project";
import { GitHttpServer } from "../support/git-http-server";
import { StsStandIn } from "../support/sts-stand-in";
import { exampleLock, synthesizedExample } from "../support/example";

const PROJECT = "acme/platform/gitlab-oidc-aws";
const fixture = readFileSync(join(repoRoot, "test", "fixtures", "consumer", "catalog.gitlab-ci.yml"), "utf8");

jest.setTimeout(120_000);

/** The template's version and the later releases the served copy gets, relative to it. */
const [major, minor] = templateVersion().split(/[.-]/).map(Number) as [number, number];
const CURRENT = templateVersion();
const LATER = [
  `${major}.${minor + 1}.0`,
  `${major}.${minor + 1}.1`,
  `${major + 1}.0.0`,
  `${major + 1}.1.0-rc.1`,
];

let sts: StsStandIn;
let server: GitHttpServer;
let project: ComponentProject;
let token: string;
const tempDirs: string[] = [];

beforeAll(async () => {
  const missing = missingPrerequisites();
  if (missing.length > 0) throw new Error(`the component e2e tests need: ${missing.join(", ")}`);
  // The example (its copy in test/fixtures), synthesized: never the team's terraform/.
  sts = await StsStandIn.start((await synthesizedExample()).dir, exampleLock());
  const root = mkdtempSync(join(tmpdir(), "git-http-root-"));
  tempDirs.push(root);
  server = await GitHttpServer.start(root);
  project = publishComponentProject(root, PROJECT, LATER);
  tempDirs.push(dirname(project.workdir));
  token = sts.mintToken({ sub: "project_path:acme/web:ref_type:branch:ref:main" });
});

afterAll(async () => {
  await sts?.close();
  await server?.close();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  sts.calls.length = 0;
});

/** The AWS CLI 2.9 reads no endpoint from the environment for its own STS calls; a rule set can. */
function stsRuleSetDataPath(): string {
  const dataPath = mkdtempSync(join(tmpdir(), "aws-data-"));
  tempDirs.push(dataPath);
  return ruleSetDataPath(dataPath, sts.url);
}

/** Runs `jobs` of the catalog consumer pipeline (acme/web, main) including the component at `version`. */
async function consume(
  version: string,
  jobs: string[],
  pipeline = fixture,
): Promise<JobRun & { log: string }> {
  const repo = createConsumerRepo({
    projectPath: "acme/web",
    branch: "main",
    origin: `${server.url}/acme/web.git`,
    copyComponent: false,
    pipeline: pipeline.replace(
      "COMPONENT_REF",
      `127.0.0.1:${server.port}/${PROJECT}/aws-credentials@${version}`,
    ),
  });
  tempDirs.push(dirname(repo.dir));
  const result = await runJobs(repo, jobs, {
    AWS_ID_TOKEN: token,
    STS_ENDPOINT: sts.url,
    AWS_DATA_PATH: stsRuleSetDataPath(),
  });
  if (process.env.E2E_LOGS) console.log(result.output);
  return { ...result, log: `${result.output}\n${result.jobLogs}` };
}

/** git over HTTP must not block this process: the git server answers from it. */
const gitAsync = async (cwd: string, ...args: string[]): Promise<string> =>
  (await promisify(execFile)("git", args, { cwd, encoding: "utf8" })).stdout;

const expectNoSecrets = (log: string): void => expectNoSecretsIn(log, token, sts.issued);

describe("include: component: from another project, over git smart HTTP", () => {
  it("serves a copy of this repository whose release tags all pass the release job's check", async () => {
    // GIVEN the published copy WHEN its tags are listed over HTTP THEN they are the template's version and the later releases
    expect(project.tags).toEqual([CURRENT, ...LATER]);
    const remote = await gitAsync(project.workdir, "ls-remote", "--tags", `${server.url}/${PROJECT}.git`);
    for (const tag of project.tags) expect(remote).toContain(`refs/tags/${tag}`);
  });

  it("by exact version: exports, web-identity and profiles modes all run green", async () => {
    // GIVEN a consumer pipeline including the component at the exact current version
    // WHEN its three jobs (one per mode) run
    const result = await consume(CURRENT, ["exports", "web-identity", "profiles"]);

    // THEN every job passed and ran that version of the component
    expect(result.exitCode).toBe(0);
    for (const mode of ["exports", "web-identity", "profiles"]) {
      expect(result.log).toContain(`aws-credentials: version ${CURRENT}, mode ${mode}`);
    }
    // AND exports and web-identity got the staging role
    for (const job of ["exports", "web-identity"]) {
      expect(result.output).toMatch(new RegExp(`^${job}\\b.*caller=${STAGING}gitlab-`, "m"));
    }
    // AND in profiles mode the AWS CLI assumed each profile's role itself, through the stand-in
    expect(result.log).toContain(`staging=${STAGING}gitlab-`);
    expect(result.log).toContain(`production=${PRODUCTION}gitlab-`);
    expect(result.log).toContain("region=eu-central-1");
    expect(result.log).toContain(`default=${STAGING}gitlab-`); // default_profile → AWS_PROFILE
    expect(result.log).toMatch(/config=\S+\/config mode=600 dir_mode=700 profile=staging/);
    expect(result.log).toContain("config outside the checkout");
    // AND the chained profile made the CLI call AssumeRole signed by the staging session (which AWS, like
    // the stand-in, denies: the synthesized roles trust only the OIDC provider)
    const chained = sts.calls.filter((c) => c.action === "AssumeRole");
    expect(chained).toEqual([
      expect.objectContaining({
        roleArn: "arn:aws:iam::111111111111:role/gitlab/gitlab-deploy-web",
        callerArn: expect.stringMatching(new RegExp(`^${STAGING}gitlab-`)) as string,
        outcome: "AccessDenied",
      }),
    ]);
    expect(result.log).toMatch(/AccessDenied.*sts:AssumeRole/);
    expectNoSecrets(result.log);
  });

  it("by partial version MAJOR.MINOR: the newest patch of that minor", async () => {
    // GIVEN releases CURRENT, M.m+1.0 and M.m+1.1 WHEN the consumer includes @M.m+1
    const result = await consume(`${major}.${minor + 1}`, ["exports"]);
    // THEN it ran M.m+1.1 and got credentials
    expect(result.exitCode).toBe(0);
    expect(result.log).toContain(`aws-credentials: version ${major}.${minor + 1}.1, mode exports`);
    expect(result.log).toContain(`caller=${STAGING}gitlab-`);
  });

  it("by partial version MAJOR: the newest release of that major", async () => {
    // GIVEN releases up to M+1.0.0 WHEN the consumer includes @M
    const result = await consume(`${major}`, ["web-identity"]);
    // THEN it ran M.m+1.1, the newest M.x.y, not M+1.0.0
    expect(result.exitCode).toBe(0);
    expect(result.log).toContain(`aws-credentials: version ${major}.${minor + 1}.1, mode web-identity`);
    expect(result.log).toContain(`caller=${STAGING}gitlab-`);
  });

  it("by ~latest: the newest release, never a pre-release", async () => {
    // GIVEN releases up to M+1.0.0 and a pre-release M+1.1.0-rc.1 WHEN the consumer includes @~latest
    const result = await consume("~latest", ["profiles"]);
    // THEN it ran M+1.0.0, and profiles mode worked
    expect(result.exitCode).toBe(0);
    expect(result.log).toContain(`aws-credentials: version ${major + 1}.0.0, mode profiles`);
    expect(result.log).toContain(`production=${PRODUCTION}gitlab-`);
  });

  it("refuses a version that is not released, naming it", async () => {
    // GIVEN no 9.x release WHEN the consumer includes @9
    const result = await consume("9", ["exports"]);
    // THEN the pipeline is invalid before any job runs
    expect(result.exitCode).not.toBe(0);
    expect(result.log).toMatch(/reference \(9\) is invalid/);
    expect(sts.calls).toHaveLength(0);
  });
});

describe("inputs refused when the pipeline is created (spec:inputs regex and options)", () => {
  const cases: [string, string, RegExp][] = [
    [
      "a role ARN with a short account id",
      "role_arn: arn:aws:iam::12345:role/deploy",
      /`role_arn` input: .* does not match required regex/,
    ],
    [
      "a role ARN of a user, not a role",
      "role_arn: arn:aws:iam::111111111111:user/deploy",
      /`role_arn` input: .* does not match required regex/,
    ],
    ["a region with a typo", "region: eu-west1", /`region` input: `eu-west1` does not match required regex/],
    [
      "a plain-http STS endpoint off the loopback",
      "sts_endpoint: http://sts.example.com",
      /`sts_endpoint` input: `http:\/\/sts.example.com` does not match/,
    ],
    [
      "a session name with a space",
      "session_name: my session",
      /`session_name` input: `my session` does not match/,
    ],
    [
      "an unknown mode",
      "mode: profile",
      /`mode` input: `profile` cannot be used because it is not in the list of allowed options/,
    ],
  ];

  it.each(cases)("%s", async (_name, input, message) => {
    // GIVEN the catalog consumer pipeline with one input replaced by a bad value
    const [key] = input.split(":");
    const pipeline = fixture
      .replace(new RegExp(`^( {6})${key}:.*$`, "m"), `$1${input}`)
      .replace(
        /^( {6}duration_seconds)/m,
        key === "mode" || key === "session_name" ? `      ${input}\n$1` : "$1",
      );
    expect(pipeline).toContain(input);
    // WHEN gitlab-ci-local parses it (at the exact version)
    const result = await consume(CURRENT, ["exports"], pipeline);
    // THEN it is refused, naming the input and the rule, and no job ran: STS never saw the token
    expect(result.exitCode).not.toBe(0);
    expect(result.log).toMatch(message);
    expect(result.log).not.toContain("aws-credentials: version");
    expect(sts.calls).toHaveLength(0);
  });
});

describe("the same project at the current commit SHA (how the component project tests itself)", () => {
  it("reads the component from the working tree", async () => {
    // GIVEN a clone of the component project, origin the git server, with a pipeline including its own
    // component at $CI_COMMIT_SHA and a template change that is not in any release
    const dir = join(mkdtempSync(join(tmpdir(), "component-self-")), "repo");
    tempDirs.push(dirname(dir));
    git(tmpdir(), "clone", "-q", project.bare, dir);
    git(dir, "remote", "set-url", "origin", `${server.url}/${PROJECT}.git`);
    const template = join(dir, "templates", "aws-credentials.yml");
    writeFileSync(
      template,
      readFileSync(template, "utf8").replace(/^(\s*_awscred_version=)\S+$/m, "$10.0.0-dev"),
    );
    writeFileSync(
      join(dir, ".gitlab-ci.yml"),
      fixture.replace("COMPONENT_REF", `127.0.0.1:${server.port}/${PROJECT}/aws-credentials@$CI_COMMIT_SHA`),
    );
    git(
      dir,
      "-c",
      "user.email=t@example.com",
      "-c",
      "user.name=t",
      "commit",
      "-q",
      "--no-verify",
      "-am",
      "self",
    );

    // WHEN its exports job runs
    const result = await runJobs({ dir }, ["exports"], {
      AWS_ID_TOKEN: sts.mintToken({
        sub: "project_path:acme/platform/gitlab-oidc-aws:ref_type:branch:ref:main",
      }),
      STS_ENDPOINT: sts.url,
    });
    const log = `${result.output}\n${result.jobLogs}`;

    // THEN the component came from the working tree at that commit (the unreleased version), not a tag;
    // the staging role (acme/web only) denies this project, which shows the call went through
    expect(log).toContain("aws-credentials: version 0.0.0-dev, mode exports");
    expect(sts.assumeCalls().map((c) => c.outcome)).toEqual(["AccessDenied"]);
    expect(log).toContain(
      "sub:             project_path:acme/platform/gitlab-oidc-aws:ref_type:branch:ref:main",
    );
  });
});
