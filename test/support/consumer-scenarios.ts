/**
 * TEST SUPPORT: scenarios of the aws-credentials component, each a job of ONE consumer pipeline
 * (test/fixtures/consumer/.gitlab-ci.yml) with its own token and variables, run by ONE gitlab-ci-local
 * run with the real AWS CLI v2 against the STS stand-in (the example's synthesized trust policies) and
 * read back job by job. test/e2e/aws-credentials.test.ts runs the promises' scenarios;
 * test/slow/aws-credentials-retries.test.ts the retry bounds with the real CLI.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { consumerFixture, createConsumerRepo, expectNoSecrets, missingPrerequisites } from "./ci-local";
import { stsRuleSetDataPath } from "./component-shell";
import { runPipeline, type JobOutcome, type PipelineRun } from "./consumer-pipeline";
import { exampleLock, synthesizedExample } from "./example";
import { StsStandIn, type TokenClaims } from "./sts-stand-in";

/** The `sub` claim GitLab writes for a ref of a project. */
export const sub = (project: string, ref: string, refType = "branch"): string =>
  `project_path:${project}:ref_type:${refType}:ref:${ref}`;

/** Small retry delays so retry scenarios stay fast. */
export const FAST_RETRIES = {
  AWS_CREDENTIALS_RETRY_BASE_DELAY: "0.05",
  AWS_CREDENTIALS_RETRY_MAX_DELAY: "0.2",
};

/** A job of the consumer pipeline for one scenario. */
export interface Scenario {
  /** The fixture's job it extends. */
  readonly extends: string;
  /** The ID token's claims; none: AWS_ID_TOKEN is empty. */
  readonly token?: TokenClaims;
  /** Its own variables (over the component's). */
  readonly variables?: Record<string, string>;
  /** Its role session name is the job's name (for injected failures and its STS calls); else derived. */
  readonly namedSession?: boolean;
}

/** A scenario's outcome, log and AssumeRoleWithWebIdentity calls. */
export type ScenarioResult = JobOutcome & { calls: ReturnType<StsStandIn["assumeCalls"]> };

/** The run of a set of scenarios, once its beforeAll has run. */
export interface ScenarioRun {
  /** The job's outcome and log, and its STS calls (by its role session name). */
  scenario(name: string): ScenarioResult;
  /** Nothing secret this run handed out appears in the job's log: its token, any key or session token. */
  expectNoSecrets(name: string): void;
  /** The whole run (its exit code, every job). */
  readonly pipeline: PipelineRun;
  /** A temporary directory removed after the file. */
  tempDir(prefix: string): string;
  /** An ID token the stand-in accepts, with these claims (for a scenario outside the pipeline). */
  mintToken(claims: TokenClaims): string;
}

/**
 * Runs `scenarios` in one pipeline in the test file's beforeAll (after `inject` has set up the STS
 * stand-in's failures for them) and stops the stand-in and removes the files after it.
 */
export function useScenarioRun(
  scenarios: Record<string, Scenario>,
  inject: (sts: StsStandIn) => void = () => undefined,
): ScenarioRun {
  let sts: StsStandIn;
  let pipeline: PipelineRun;
  const tokens: Record<string, string> = {};
  const tempDirs: string[] = [];
  const tempDir = (prefix: string): string => {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    tempDirs.push(dir);
    return dir;
  };

  /** The fixture pipeline and one job per scenario, each with its token and variables. */
  const scenarioPipeline = (): string => {
    const jobs = Object.entries(scenarios).map(([name, scenario]) => {
      const variables: Record<string, string> = {
        AWS_ID_TOKEN: tokens[name] ?? "",
        ...(scenario.namedSession ? { AWS_CREDENTIALS_SESSION_NAME: name } : {}),
        ...scenario.variables,
      };
      const lines = Object.entries(variables).map(([k, v]) => `    ${k}: ${JSON.stringify(v)}`);
      return `${name}:\n  extends: ${scenario.extends}\n  variables:\n${lines.join("\n")}\n`;
    });
    return `${readFileSync(consumerFixture, "utf8")}\n${jobs.join("\n")}`;
  };

  beforeAll(async () => {
    const missing = missingPrerequisites();
    if (missing.length > 0) {
      throw new Error(`the aws-credentials e2e tests need: ${missing.join(", ")} (.ci/run installs them)`);
    }
    // The example (its copy in test/fixtures), synthesized: never the team's terraform/.
    sts = await StsStandIn.start((await synthesizedExample()).dir, exampleLock());
    for (const [name, scenario] of Object.entries(scenarios)) {
      if (scenario.token) tokens[name] = sts.mintToken(scenario.token);
    }
    inject(sts);
    const repo = createConsumerRepo({
      projectPath: "acme/web",
      branch: "main",
      pipeline: scenarioPipeline(),
    });
    tempDirs.push(dirname(repo.dir));
    pipeline = await runPipeline(
      repo,
      Object.keys(scenarios),
      { STS_ENDPOINT: sts.url, STS_DATA_PATH: stsRuleSetDataPath(tempDir("aws-data-"), sts.url) },
      // gitlab-ci-local's own schema check, once for the whole pipeline.
      { validateSchema: true, timeoutMs: 240_000 },
    );
    if (process.env.E2E_LOGS) console.log(pipeline.output);
  }, 300_000);

  afterAll(async () => {
    await sts?.close();
    for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  });

  return {
    scenario(name) {
      // By its role session name: the job's name or, when derived, the one its log names ("as session
      // <name> (…", or its script's " session=<name> ").
      const job = pipeline.job(name);
      const session = scenarios[name]!.namedSession
        ? name
        : /(?:as session | session=)([\w+=,.@-]+) /.exec(job.log)?.[1];
      return { ...job, calls: sts.assumeCalls().filter((c) => c.roleSessionName === session) };
    },
    expectNoSecrets: (name) => expectNoSecrets(pipeline.job(name).log, tokens[name]!, sts.issued),
    get pipeline() {
      return pipeline;
    },
    tempDir,
    mintToken: (claims) => sts.mintToken(claims),
  };
}
