/**
 * Mode profiles checks every hop of its role chains before the job's script runs (verify_profiles): the
 * scenarios of test/support/component-hops.ts under dash, with the real AWS CLI and the STS stand-in
 * (which answers AssumeRole from the target role's trust policy). bash and BusyBox: test/slow/.
 */
import { missingPrerequisites } from "../support/ci-local";
import { startComponentStsStandIn } from "../support/component-fixture";
import { hopScenarios } from "../support/component-hops";
import { ComponentShells } from "../support/component-shell";
import type { StsStandIn } from "../support/sts-stand-in";

jest.setTimeout(60_000);

let sts: StsStandIn;
let closeSts: () => Promise<void>;
let shells: ComponentShells;

beforeAll(async () => {
  const missing = missingPrerequisites();
  if (missing.length > 0) throw new Error(`the component hop tests need: ${missing.join(", ")}`);
  ({ sts, close: closeSts } = await startComponentStsStandIn());
  shells = new ComponentShells();
});

afterAll(async () => {
  await closeSts?.();
  shells?.cleanup();
});

describe("mode profiles verifies each hop of its chains, under dash", () => {
  for (const [name, scenario] of Object.entries(hopScenarios(() => ({ sts, shells })))) {
    it(name, () => scenario("dash"));
  }
});
