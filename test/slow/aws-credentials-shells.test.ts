/**
 * Breadth for the component's script: the scenarios the e2e tier runs under dash
 * (test/e2e/aws-credentials-shells.test.ts), under bash and BusyBox sh (a PATH of BusyBox applets only)
 * with the real AWS CLI and the STS stand-in. One definition: test/support/component-shell-scenarios.ts.
 */
import { describeHardening, describeModes, useShellHarness } from "../support/component-shell-scenarios";

jest.setTimeout(60_000);

useShellHarness();
describeModes(["bash", "busybox"]);
describeHardening(["bash", "busybox"]);
