/**
 * End to end: the component as other projects include it, `include: component: <host>/<path>/aws-credentials@<version>`
 * (test/support/component-catalog.ts serves this repository with release tags over git smart HTTP): the
 * exact version (one run, a job per mode), a version that is not released, one input refused by its regex
 * and one by its options (partial versions MAJOR.MINOR and MAJOR, ~latest and the other inputs:
 * test/slow/aws-credentials-catalog.test.ts),
 * and the same-project form at the current SHA. One gitlab-ci-local run per version: two versions cannot
 * share a pipeline, since every include defines the same .aws-credentials-script and the last one wins.
 */
import { writeFileSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import {
  expectNoSecrets as expectNoSecretsIn,
  PRODUCTION_SESSION as PRODUCTION,
  runJobs,
  STAGING_SESSION as STAGING,
} from "../support/ci-local";
import {
  CATALOG_FIXTURE as fixture,
  CURRENT,
  describeInputRefusals,
  INPUT_REFUSALS,
  LATER,
  PROJECT,
  useCatalogHarness,
} from "../support/component-catalog";
import { git } from "../support/component-project";

jest.setTimeout(120_000);

const h = useCatalogHarness();

/** git over HTTP must not block this process: the git server answers from it. */
const gitAsync = async (cwd: string, ...args: string[]): Promise<string> =>
  (await promisify(execFile)("git", args, { cwd, encoding: "utf8" })).stdout;

const expectNoSecrets = (log: string): void => expectNoSecretsIn(log, h.token, h.sts.issued);

describe("include: component: from another project, over git smart HTTP", () => {
  it("serves a copy of this repository whose release tags all pass the release job's check", async () => {
    // GIVEN the published copy WHEN its tags are listed over HTTP THEN they are the template's version and the later releases
    expect(h.project.tags).toEqual([CURRENT, ...LATER]);
    const remote = await gitAsync(h.project.workdir, "ls-remote", "--tags", `${h.server.url}/${PROJECT}.git`);
    for (const tag of h.project.tags) expect(remote).toContain(`refs/tags/${tag}`);
  });

  it("by exact version: exports, web-identity and profiles modes all run green", async () => {
    // GIVEN a consumer pipeline including the component at the exact current version
    // WHEN its three jobs (one per mode) run, in one gitlab-ci-local run
    const result = await h.consume(CURRENT, ["exports", "web-identity", "profiles"]);

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
    const chained = h.sts.calls.filter((c) => c.action === "AssumeRole");
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

  it("refuses a version that is not released, naming it", async () => {
    // GIVEN no 9.x release WHEN the consumer includes @9
    const result = await h.consume("9", ["exports"]);
    // THEN the pipeline is invalid before any job runs
    expect(result.exitCode).not.toBe(0);
    expect(result.log).toMatch(/reference \(9\) is invalid/);
    expect(h.sts.calls).toHaveLength(0);
  });
});

describeInputRefusals(h, INPUT_REFUSALS.fast);

describe("the same project at the current commit SHA (how the component project tests itself)", () => {
  it("reads the component from the working tree", async () => {
    // GIVEN a clone of the component project, origin the git server, with a pipeline including its own
    // component at $CI_COMMIT_SHA and a template change that is not in any release
    const dir = join(h.tempDir("component-self-"), "repo");
    git(tmpdir(), "clone", "-q", h.project.bare, dir);
    git(dir, "remote", "set-url", "origin", `${h.server.url}/${PROJECT}.git`);
    const template = join(dir, "templates", "aws-credentials.yml");
    writeFileSync(
      template,
      readFileSync(template, "utf8").replace(/^(\s*_awscred_version=)\S+$/m, "$10.0.0-dev"),
    );
    writeFileSync(
      join(dir, ".gitlab-ci.yml"),
      fixture.replace(
        "COMPONENT_REF",
        `127.0.0.1:${h.server.port}/${PROJECT}/aws-credentials@$CI_COMMIT_SHA`,
      ),
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
      AWS_ID_TOKEN: h.sts.mintToken({
        sub: "project_path:acme/platform/gitlab-oidc-aws:ref_type:branch:ref:main",
      }),
      STS_ENDPOINT: h.sts.url,
    });
    const log = `${result.output}\n${result.jobLogs}`;

    // THEN the component came from the working tree at that commit (the unreleased version), not a tag;
    // the staging role (acme/web only) denies this project, which shows the call went through
    expect(log).toContain("aws-credentials: version 0.0.0-dev, mode exports");
    expect(h.sts.assumeCalls().map((c) => c.outcome)).toEqual(["AccessDenied"]);
    expect(log).toContain(
      "sub:             project_path:acme/platform/gitlab-oidc-aws:ref_type:branch:ref:main",
    );
  });
});
