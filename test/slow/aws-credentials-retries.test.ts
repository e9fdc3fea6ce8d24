/**
 * Breadth for the component's retries, with the real AWS CLI through gitlab-ci-local (the fast tests: the
 * backoff, attempt bound and total-time bound on a fake clock in test/e2e/aws-credentials-shells.test.ts,
 * and transient errors retried until STS answers in test/e2e/aws-credentials.test.ts): STS that keeps
 * throttling stops at the attempt bound; dropped connections stop at the total-time bound.
 */
import { FAST_RETRIES, sub, useScenarioRun, type Scenario } from "../support/consumer-scenarios";

const SCENARIOS: Record<string, Scenario> = {
  "attempt-bound": {
    extends: "staging-credentials-only",
    token: { sub: sub("acme/web", "main") },
    variables: { ...FAST_RETRIES, AWS_CREDENTIALS_MAX_ATTEMPTS: "2" },
    namedSession: true,
  },
  "time-bound": {
    extends: "staging-credentials-only",
    token: { sub: sub("acme/web", "main") },
    // Many attempts allowed, but a total time bound smaller than the first delay.
    variables: {
      AWS_CREDENTIALS_RETRY_BASE_DELAY: "4",
      AWS_CREDENTIALS_MAX_ATTEMPTS: "10",
      AWS_CREDENTIALS_RETRY_MAX_TIME: "1",
    },
    namedSession: true,
  },
};

const { scenario } = useScenarioRun(SCENARIOS, (sts) => {
  sts.injectFailuresFor("attempt-bound", "Throttling", 50);
  sts.injectFailuresFor("time-bound", "drop", 50);
});

describe("exports mode, retries with the real AWS CLI", () => {
  it("stops retrying at the attempt bound and fails the job", () => {
    // GIVEN STS that keeps throttling, and at most 2 attempts WHEN the job runs
    const result = scenario("attempt-bound");
    // THEN exactly 2 calls were made and the job failed saying so; the script after it never ran
    expect(result.status).toBe("failed");
    expect(result.calls.map((c) => c.outcome)).toEqual(["Throttling", "Throttling"]);
    expect(result.log).toContain("gave up after 2 attempts (Throttling)");
    expect(result.log).not.toContain("credentials exported");
  });

  it("stops retrying when the next delay would exceed the total time bound", () => {
    // GIVEN dropped connections, a 4 s base delay and AWS_CREDENTIALS_RETRY_MAX_TIME=1 WHEN the job runs
    const result = scenario("time-bound");
    // THEN it gave up after the first attempt, naming the time bound
    expect(result.status).toBe("failed");
    expect(result.calls.map((c) => c.outcome)).toEqual(["drop"]);
    expect(result.log).toContain("would exceed AWS_CREDENTIALS_RETRY_MAX_TIME=1s");
  });
});
