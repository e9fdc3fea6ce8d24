/**
 * TEST SUPPORT ONLY: the component as other projects include it, `include: component:
 * <host>/<path>/aws-credentials@<version>`. This repository (a copy of the working tree, with release tags)
 * is served by a git smart-HTTP server on 127.0.0.1; consumer repositories whose `origin` is that server
 * run jobs with gitlab-ci-local, which resolves the version from the tags and clones the component; the
 * real AWS CLI talks to the STS stand-in. Shared by test/e2e/aws-credentials-catalog.test.ts and the slow
 * tier's test/slow/aws-credentials-catalog.test.ts (the other input refusals, ~latest in profiles mode).
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import {
  createConsumerRepo,
  missingPrerequisites,
  PRODUCTION_SESSION,
  repoRoot,
  runJobs,
  STAGING_SESSION,
  type ConsumerRepo,
  type JobRun,
} from "./ci-local";
import { stsRuleSetDataPath as ruleSetDataPath } from "./component-shell";
import { publishComponentProject, templateVersion, type ComponentProject } from "./component-project";
import { GitHttpServer } from "./git-http-server";
import { StsStandIn } from "./sts-stand-in";
import { exampleLock, synthesizedExample } from "./example";

export const PROJECT = "acme/platform/gitlab-oidc-aws";
/** The catalog consumer pipeline; COMPONENT_REF stands for <host>/<path>/aws-credentials@<version>. */
export const CATALOG_FIXTURE = readFileSync(
  join(repoRoot, "test", "fixtures", "consumer", "catalog.gitlab-ci.yml"),
  "utf8",
);

/** The template's version (read from it, never pinned here) and the later releases the served copy gets. */
export const CURRENT = templateVersion();
export const [MAJOR, MINOR] = CURRENT.split(/[.-]/).map(Number) as [number, number];
export const LATER = [
  `${MAJOR}.${MINOR + 1}.0`,
  `${MAJOR}.${MINOR + 1}.1`,
  `${MAJOR + 1}.0.0`,
  `${MAJOR + 1}.1.0-rc.1`,
];

export interface CatalogHarness {
  readonly sts: StsStandIn;
  readonly server: GitHttpServer;
  readonly project: ComponentProject;
  /** acme/web main's ID token (allowed by the staging role). */
  readonly token: string;
  /** The component reference for `version`, as a consumer writes it. */
  componentRef(version: string): string;
  /** A temporary directory removed after the file. */
  tempDir(prefix: string): string;
  /** A consumer repository (acme/web, main, origin the git server) holding `pipeline`. */
  consumerRepo(pipeline: string): ConsumerRepo;
  /** Runs `jobs` of the catalog consumer pipeline including the component at `version` (or `pipeline`). */
  consume(version: string, jobs: string[], pipeline?: string): Promise<JobRun & { log: string }>;
  /** The variables every consumer job gets: the token, the stand-in, the AWS CLI's rule set for it. */
  variables(): Record<string, string>;
}

/** Registers the hooks (in the calling file): the STS stand-in, the git server and the published project. */
export function useCatalogHarness(): CatalogHarness {
  let sts: StsStandIn;
  let server: GitHttpServer;
  let project: ComponentProject;
  let token: string;
  const tempDirs: string[] = [];
  const tempDir = (prefix: string): string => {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    tempDirs.push(dir);
    return dir;
  };

  beforeAll(async () => {
    const missing = missingPrerequisites();
    if (missing.length > 0) throw new Error(`the component e2e tests need: ${missing.join(", ")}`);
    // The example (its copy in test/fixtures), synthesized: never the team's terraform/.
    sts = await StsStandIn.start((await synthesizedExample()).dir, exampleLock());
    const root = tempDir("git-http-root-");
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

  const harness: CatalogHarness = {
    get sts() {
      return sts;
    },
    get server() {
      return server;
    },
    get project() {
      return project;
    },
    get token() {
      return token;
    },
    componentRef: (version) => `127.0.0.1:${server.port}/${PROJECT}/aws-credentials@${version}`,
    tempDir,
    consumerRepo(pipeline) {
      const repo = createConsumerRepo({
        projectPath: "acme/web",
        branch: "main",
        origin: `${server.url}/acme/web.git`,
        copyComponent: false,
        pipeline,
      });
      tempDirs.push(dirname(repo.dir));
      return repo;
    },
    // The AWS CLI 2.9 reads no endpoint from the environment for its own STS calls; a rule set can.
    variables: () => ({
      AWS_ID_TOKEN: token,
      STS_ENDPOINT: sts.url,
      AWS_DATA_PATH: ruleSetDataPath(tempDir("aws-data-"), sts.url),
    }),
    async consume(version, jobs, pipeline = CATALOG_FIXTURE) {
      const repo = harness.consumerRepo(pipeline.replace("COMPONENT_REF", harness.componentRef(version)));
      const result = await runJobs(repo, jobs, harness.variables());
      if (process.env.E2E_LOGS) console.log(result.output);
      return { ...result, log: `${result.output}\n${result.jobLogs}` };
    },
  };
  return harness;
}

/**
 * ~latest resolves to the newest release, never a pre-release; `job` is the catalog consumer's job that
 * runs it (profiles, five AWS CLI starts, in the slow tier; web-identity starts one).
 */
export function describeLatest(harness: CatalogHarness, job: "web-identity" | "profiles"): void {
  it(`by ~latest: the newest release, never a pre-release (mode ${job})`, async () => {
    // GIVEN releases up to M+1.0.0 and a pre-release M+1.1.0-rc.1 WHEN the consumer includes @~latest
    const result = await harness.consume("~latest", [job]);
    // THEN it ran M+1.0.0, and the mode worked
    expect(result.exitCode).toBe(0);
    expect(result.log).toContain(`aws-credentials: version ${MAJOR + 1}.0.0, mode ${job}`);
    expect(result.log).toContain(
      job === "profiles" ? `production=${PRODUCTION_SESSION}gitlab-` : `caller=${STAGING_SESSION}gitlab-`,
    );
  });
}

/** An input value GitLab refuses when it creates the pipeline: [what, the input line, the message]. */
export type InputRefusal = readonly [string, string, RegExp];

/** Input values the spec's regexes and options refuse (the regexes are checked in-process by test/e2e/component-schema.test.ts). */
export const INPUT_REFUSALS: Record<"fast" | "breadth", readonly InputRefusal[]> = {
  // One of each mechanism in the e2e tier: a regex, and an options list.
  fast: [
    [
      "a role ARN with a short account id",
      "role_arn: arn:aws:iam::12345:role/deploy",
      /`role_arn` input: .* does not match required regex/,
    ],
    [
      "an unknown mode",
      "mode: profile",
      /`mode` input: `profile` cannot be used because it is not in the list of allowed options/,
    ],
  ],
  breadth: [
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
  ],
};

/** Each refusal: the catalog consumer pipeline with that input, refused before any job runs. */
export function describeInputRefusals(harness: CatalogHarness, cases: readonly InputRefusal[]): void {
  describe("inputs refused when the pipeline is created (spec:inputs regex and options)", () => {
    it.each(cases)("%s", async (_name, input, message) => {
      // GIVEN the catalog consumer pipeline with one input replaced by a bad value
      const [key] = input.split(":");
      const pipeline = CATALOG_FIXTURE.replace(new RegExp(`^( {6})${key}:.*$`, "m"), `$1${input}`).replace(
        /^( {6}duration_seconds)/m,
        key === "mode" || key === "session_name" ? `      ${input}\n$1` : "$1",
      );
      expect(pipeline).toContain(input);
      // WHEN gitlab-ci-local parses it (at the exact version)
      const result = await harness.consume(CURRENT, ["exports"], pipeline);
      // THEN it is refused, naming the input and the rule, and no job ran: STS never saw the token
      expect(result.exitCode).not.toBe(0);
      expect(result.log).toMatch(message);
      expect(result.log).not.toContain("aws-credentials: version");
      expect(harness.sts.calls).toHaveLength(0);
    });
  });
}
