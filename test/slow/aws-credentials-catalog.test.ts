/**
 * Breadth for the component as a catalog include: the inputs GitLab refuses when it creates the pipeline,
 * beyond the one regex and one options case the e2e tier runs (test/e2e/aws-credentials-catalog.test.ts),
 * one gitlab-ci-local run each; and more versions: MAJOR.MINOR, MAJOR, and ~latest with the profiles job. The harness
 * and the shared cases: test/support/component-catalog.ts.
 */
import {
  describeInputRefusals,
  describeLatest,
  INPUT_REFUSALS,
  MAJOR,
  MINOR,
  useCatalogHarness,
} from "../support/component-catalog";
import { STAGING_SESSION } from "../support/ci-local";

jest.setTimeout(120_000);

const h = useCatalogHarness();

describe("more versions", () => {
  it("by partial version MAJOR.MINOR: the newest patch of that minor", async () => {
    // GIVEN releases CURRENT, M.m+1.0 and M.m+1.1 WHEN the consumer includes @M.m+1
    const result = await h.consume(`${MAJOR}.${MINOR + 1}`, ["exports"]);
    // THEN it ran M.m+1.1 and got credentials
    expect(result.exitCode).toBe(0);
    expect(result.log).toContain(`aws-credentials: version ${MAJOR}.${MINOR + 1}.1, mode exports`);
    expect(result.log).toContain(`caller=${STAGING_SESSION}gitlab-`);
  });

  it("by partial version MAJOR: the newest release of that major", async () => {
    // GIVEN releases up to M+1.0.0 WHEN the consumer includes @M
    const result = await h.consume(`${MAJOR}`, ["web-identity"]);
    // THEN it ran M.m+1.1, the newest M.x.y, not M+1.0.0
    expect(result.exitCode).toBe(0);
    expect(result.log).toContain(`aws-credentials: version ${MAJOR}.${MINOR + 1}.1, mode web-identity`);
    expect(result.log).toContain(`caller=${STAGING_SESSION}gitlab-`);
  });
});

describeLatest(h, "profiles");
describeInputRefusals(h, INPUT_REFUSALS.breadth);
