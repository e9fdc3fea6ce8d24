/**
 * Breadth for the sealed launcher (the promises have fast tests in test/sealed-run.test.ts): every
 * steering variable, the and more of the same kinds, set alone, under dash, BusyBox sh and
 * bash, in plan and deploy jobs: refused by name, and the step never starts.
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { run } from "../support/run";
import { jobEnvironment, sealedCheckout } from "../support/sealed-checkout";
import { MORE_STEERING, OVERRIDES, STEERING } from "../support/sealed-hostile";

const GITLAB = "https://gitlab.example.com";
const SHA = "0123456789abcdef0123456789abcdef01234567";
const SHELLS = [["dash"], ["busybox", "sh"], ["bash", "--posix"]].filter(
  ([cmd]) => run("sh", ["-c", `command -v ${cmd}`]).status === 0,
);

let dir: string;
beforeAll(() => {
  dir = sealedCheckout({ gitlabUrl: GITLAB, stubStep: true });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.each(SHELLS)("sealed-run.sh under %s", (...shell) => {
  test.each([...STEERING, ...MORE_STEERING, ...OVERRIDES])("refuses %s alone", (name, value) => {
    for (const step of ["plan", "deploy"] as const) {
      // GIVEN a job's environment with this one variable added
      const env = { ...jobEnvironment(dir, step, { gitlabUrl: GITLAB, sha: SHA }), [name]: value };
      // WHEN the launcher runs
      const result = run(shell[0]!, [...shell.slice(1), join(dir, "src/pipeline/sealed-run.sh"), step], {
        cwd: dir,
        env,
        timeoutMs: 20_000,
      });
      // THEN it fails naming the variable, and the step never started
      expect(result.status).toBe(1);
      expect(result.stderr).toMatch(
        new RegExp(`sealed-run: ERROR: refusing to run ${step}: .*\\b${name}\\b`),
      );
      expect(result.stdout).not.toContain("--- child environment");
    }
  });
});
