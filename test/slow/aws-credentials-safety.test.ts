/**
 * Breadth for the component's safety checks: the refusals and no-effect cases the e2e tier runs under
 * dash (test/e2e/aws-credentials-safety.test.ts), under bash and BusyBox sh, with the real AWS CLI and the
 * STS stand-in. One definition: test/support/component-safety-scenarios.ts.
 */
import { describeNoEffect, describeRefusals, useSafetyHarness } from "../support/component-safety-scenarios";

jest.setTimeout(60_000);

useSafetyHarness();
describeRefusals(["bash", "busybox"]);
describeNoEffect(["bash", "busybox"]);
