/**
 * Breadth for the component as a catalog include: the inputs GitLab refuses when it creates the pipeline,
 * beyond the one regex and one options case the e2e tier runs (test/e2e/aws-credentials-catalog.test.ts),
 * one gitlab-ci-local run each, and ~latest with the profiles job. One definition: test/support/component-catalog.ts.
 */
import {
  describeInputRefusals,
  describeLatest,
  INPUT_REFUSALS,
  useCatalogHarness,
} from "../support/component-catalog";

jest.setTimeout(120_000);

const h = useCatalogHarness();
describeLatest(h, "profiles");
describeInputRefusals(h, INPUT_REFUSALS.breadth);
