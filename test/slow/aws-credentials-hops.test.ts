/**
 * Breadth for test/e2e/aws-credentials-hops.test.ts (which runs the scenarios under dash): the same
 * scenarios of the hop check in mode profiles under bash and BusyBox sh (a PATH of BusyBox applets only).
 */
import { describeHopScenarios } from "../support/component-hops";
import { SHELLS } from "../support/component-shell";

jest.setTimeout(60_000);

describeHopScenarios(SHELLS.filter((shell) => shell !== "dash"));
