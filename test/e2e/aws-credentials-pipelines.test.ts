/**
 * The component in a consumer pipeline with several roles, run by gitlab-ci-local (one repository, one
 * run for all jobs): one include per role, each defining its own hidden job (`job` input); the region
 * from the input or the job; a job without a region stopped with a message; a session policy whose
 * own ${aws:...} variables reach STS unexpanded; and the unsafe pattern, two includes defining the same
 * hidden job with different roles (GitLab merges includes and the last wins), caught by the job's own
 * allowed_account_ids.
 */
import { dirname } from "node:path";
import { rmSync } from "node:fs";
import {
  createConsumerRepo,
  expectNoSecrets,
  missingPrerequisites,
  PRODUCTION_ROLE,
  runJobs,
  STAGING_ROLE,
  type JobRun,
} from "../support/ci-local";
import { startComponentStsStandIn } from "../support/component-fixture";
import type { StsStandIn } from "../support/sts-stand-in";

const SESSION_POLICY =
  '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::acme-web-assets/${aws:userid}/*"}]}';

const PIPELINE = `
include:
  - local: templates/aws-credentials.yml
    inputs:
      job: .aws-credentials-staging
      role_arn: ${STAGING_ROLE}
      region: eu-west-1
      sts_endpoint: $STS_ENDPOINT
  - local: templates/aws-credentials.yml
    inputs:
      job: .aws-credentials-production
      role_arn: ${PRODUCTION_ROLE}
      region: eu-central-1
      allowed_account_ids: ["111111111111"]
      session_policy: '${SESSION_POLICY}'
      sts_endpoint: $STS_ENDPOINT
  - local: templates/aws-credentials.yml
    inputs:
      job: .aws-credentials-job-region
      role_arn: ${STAGING_ROLE}
      sts_endpoint: $STS_ENDPOINT
  # The unsafe pattern: the same hidden job (.aws-credentials, the default) twice; the last include wins.
  - local: templates/aws-credentials.yml
    inputs:
      role_arn: ${STAGING_ROLE}
      region: eu-west-1
      sts_endpoint: $STS_ENDPOINT
  - local: templates/aws-credentials.yml
    inputs:
      role_arn: ${PRODUCTION_ROLE}
      region: eu-west-1
      sts_endpoint: $STS_ENDPOINT

stages: [deploy]

.report:
  stage: deploy
  script:
    - echo "$CI_JOB_NAME account=$AWS_CREDENTIALS_ACCOUNT_ID region=$AWS_REGION caller=$(aws sts get-caller-identity --endpoint-url "$STS_ENDPOINT" --query Arn --output text)"

deploy-staging:
  extends: [.aws-credentials-staging, .report]

deploy-production:
  extends: [.aws-credentials-production, .report]

region-from-job:
  extends: [.aws-credentials-job-region, .report]
  variables:
    AWS_REGION: eu-north-1

no-region:
  extends: [.aws-credentials-job-region, .report]
  allow_failure: true

# Meant for staging, but the include for production came last: its own allowed account stops it.
unsafe-double-include:
  extends: [.aws-credentials, .report]
  allow_failure: true
  variables:
    AWS_CREDENTIALS_ALLOWED_ACCOUNT_IDS: "222222222222"
`;

jest.setTimeout(120_000);

let sts: StsStandIn;
let closeSts: () => Promise<void>;
let run: JobRun;
let token: string;
let repoBase: string;

beforeAll(async () => {
  const missing = missingPrerequisites();
  if (missing.length > 0) throw new Error(`the component pipeline tests need: ${missing.join(", ")}`);
  ({ sts, close: closeSts } = await startComponentStsStandIn());
  const repo = createConsumerRepo({ projectPath: "acme/web", branch: "main", pipeline: PIPELINE });
  repoBase = dirname(repo.dir);
  token = sts.mintToken({ sub: "project_path:acme/web:ref_type:branch:ref:main" });
  run = await runJobs(
    repo,
    ["deploy-staging", "deploy-production", "region-from-job", "no-region", "unsafe-double-include"],
    { STS_ENDPOINT: sts.url, AWS_ID_TOKEN: token },
  );
}, 110_000);

afterAll(async () => {
  await closeSts?.();
  if (repoBase) rmSync(repoBase, { recursive: true, force: true });
});

const line = (job: string): string =>
  run.output.split("\n").find((l) => l.includes(`${job} account=`)) ?? `(no report line of ${job})`;

describe("several roles in one pipeline (gitlab-ci-local)", () => {
  test("each named include's job reaches its own role, account and region", () => {
    expect(line("deploy-staging")).toContain(
      "account=222222222222 region=eu-west-1 caller=arn:aws:sts::222222222222:assumed-role/gitlab-deploy-web/",
    );
    expect(line("deploy-production")).toContain(
      "account=111111111111 region=eu-central-1 caller=arn:aws:sts::111111111111:assumed-role/gitlab-deploy-web/",
    );
    expectNoSecrets(run.output + run.jobLogs, token, sts.issued);
  });

  test("the session policy reaches STS as written, its ${aws:userid} not expanded as a CI/CD variable", () => {
    const production = sts
      .assumeCalls()
      .find((c) => c.roleArn === PRODUCTION_ROLE && c.outcome === "Success" && c.policy);
    expect(production?.policy).toBe(SESSION_POLICY);
  });

  test("a job's own AWS_REGION is kept when the include names no region", () => {
    expect(line("region-from-job")).toContain("account=222222222222 region=eu-north-1");
  });

  test("a job with no region at all stops, naming the input", () => {
    expect(run.output).toContain(
      "no region: set the component's region input (e.g. region: eu-west-1), or AWS_REGION in the job",
    );
    expect(line("no-region")).toContain("(no report line");
  });

  test("the unsafe double include (same hidden job, two roles) is caught by the job's allowed_account_ids", () => {
    // GitLab (and gitlab-ci-local) merge the two includes: the hidden job holds the last role.
    expect(run.output).toContain(
      "arn:aws:iam::111111111111:role/gitlab/gitlab-deploy-web is in account 111111111111, which is not one of allowed_account_ids ( 222222222222 )",
    );
    expect(line("unsafe-double-include")).toContain("(no report line");
  });
});
