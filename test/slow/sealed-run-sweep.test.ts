/**
 * Breadth for the sealed launcher (the promises have fast tests in test/e2e/sealed-run.test.ts): every
 * steering variable, the and more of the same kinds, set alone, under dash, BusyBox sh and
 * bash, in plan and deploy jobs: refused by name, and the step never starts.
 */
import { rmSync } from "node:fs";
import { SHELLS, STUB_GITLAB, launchStub, sealedCheckout } from "../support/sealed-checkout";
import { MORE_STEERING, OVERRIDES, STEERING } from "../support/sealed-hostile";

let dir: string;
beforeAll(() => {
  dir = sealedCheckout({ gitlabUrl: STUB_GITLAB, stubStep: true });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.each(SHELLS)("sealed-run.sh under %s", (...shell) => {
  test.each([...STEERING, ...MORE_STEERING, ...OVERRIDES])("refuses %s alone", (name, value) => {
    for (const step of ["plan", "deploy"] as const) {
      // WHEN the launcher runs with this one variable added to a job's environment
      const result = launchStub(dir, shell, step, { [name]: value });
      // THEN it fails naming the variable, and the step never started
      expect(result.status).toBe(1);
      expect(result.stderr).toMatch(
        new RegExp(`sealed-run: ERROR: refusing to run ${step}: .*\\b${name}\\b`),
      );
      expect(result.stdout).not.toContain("--- child environment");
    }
  });
});
