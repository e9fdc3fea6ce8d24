/**
 * Breadth for test/e2e/aws-credentials-hops.test.ts (which runs the scenarios under dash): the same
 * scenarios of the hop check in mode profiles under bash and BusyBox sh (a PATH of BusyBox applets only).
 */
import { missingPrerequisites } from "../support/ci-local";
import { startComponentStsStandIn } from "../support/component-fixture";
import { hopScenarios } from "../support/component-hops";
import { ComponentShells, SHELLS, type ShellName } from "../support/component-shell";
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

describe.each(SHELLS.filter((shell) => shell !== "dash"))(
  "mode profiles verifies each hop of its chains, under %s",
  (shell: ShellName) => {
    for (const [name, scenario] of Object.entries(hopScenarios(() => ({ sts, shells })))) {
      it(name, () => scenario(shell));
    }
  },
);
