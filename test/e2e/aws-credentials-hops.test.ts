/**
 * Mode profiles checks every hop of its role chains before the job's script runs (verify_profiles): the
 * scenarios of test/support/component-hops.ts under dash, with the real AWS CLI and the STS stand-in
 * (which answers AssumeRole from the target role's trust policy). bash and BusyBox: test/slow/.
 */
import { describeHopScenarios } from "../support/component-hops";

jest.setTimeout(60_000);

describeHopScenarios(["dash"]);
