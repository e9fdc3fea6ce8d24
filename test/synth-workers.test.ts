/**
 * How many worker threads a synth starts (src/synth-workers.ts): a worker only where it pays, never
 * more than the spare cores or the stacks, and the setting that overrides it read strictly.
 * What workers write is tested end to end (test/e2e/synth-workers.test.ts).
 */
import type { PlannedStack } from "../src/synth-plan";
import {
  ROLES_PER_WORKER,
  synthWorkerCount,
  workersForConfig,
  workersFromEnv,
  WORKERS_ENV,
} from "../src/synth-workers";

/** Stacks of accounts with these role counts (only `props` matters to the count). */
function stacks(...roleCounts: number[]): Pick<PlannedStack, "props">[] {
  return roleCounts.map((roles) => ({
    props: { account: { roles: Array.from({ length: roles }) } } as unknown as PlannedStack["props"],
  }));
}

describe("synthWorkerCount", () => {
  test("GIVEN fewer roles to synthesize than one worker pays for THEN no worker", () => {
    expect(synthWorkerCount(stacks(ROLES_PER_WORKER / 2 - 1, ROLES_PER_WORKER / 2), 8)).toBe(0);
    expect(synthWorkerCount([], 8)).toBe(0);
  });

  test("GIVEN a large config THEN one worker per ROLES_PER_WORKER roles, at most the cores less one", () => {
    const hundredAccounts = stacks(...Array.from({ length: 100 }, () => 50));
    expect(synthWorkerCount(hundredAccounts, 2)).toBe(1);
    expect(synthWorkerCount(hundredAccounts, 4)).toBe(3);
    const huge = stacks(...Array.from({ length: 100 }, () => 150));
    expect(synthWorkerCount(huge, 64)).toBe(7); // beyond that, files and memory dominate
    expect(synthWorkerCount(stacks(...Array.from({ length: 10 }, () => ROLES_PER_WORKER / 5)), 8)).toBe(2);
  });

  test("GIVEN one core, or one stack however large THEN no worker (a stack is never split)", () => {
    expect(synthWorkerCount(stacks(5000, 5000), 1)).toBe(0);
    expect(synthWorkerCount(stacks(5000), 8)).toBe(0);
  });
});

describe("workersForConfig: the workers started before the config is read", () => {
  test("GIVEN the bytes of a config THEN a guess at its roles decides, as synthWorkerCount would", () => {
    // The benchmark's 5,000-role config is 3.6 MB; the example, 2 KB.
    expect(workersForConfig(3_651_238, 2)).toBe(1);
    expect(workersForConfig(3_651_238, 4)).toBe(3);
    expect(workersForConfig(2_000, 8)).toBe(0);
    expect(workersForConfig(3_651_238, 1)).toBe(0);
  });
});

describe(`workersFromEnv (${WORKERS_ENV})`, () => {
  test("GIVEN it unset or empty THEN the default (undefined)", () => {
    expect(workersFromEnv({})).toBeUndefined();
    expect(workersFromEnv({ [WORKERS_ENV]: "" })).toBeUndefined();
  });

  test.each([
    ["0", 0],
    ["1", 1],
    ["12", 12],
    ["64", 64],
  ])("GIVEN %s THEN %d", (value, workers) => {
    expect(workersFromEnv({ [WORKERS_ENV]: value })).toBe(workers);
  });

  test.each(["-1", "1.5", "two", " 1", "65", "99", "1e1", "0x2", "\u001b[31m"])(
    "GIVEN %j THEN an error naming the setting and what it takes",
    (value) => {
      expect(() => workersFromEnv({ [WORKERS_ENV]: value })).toThrow(
        new RegExp(
          `^${WORKERS_ENV}=.*: expected a whole number of worker threads from 0 \\(one thread\\) to 64$`,
        ),
      );
      // The value is quoted as JSON: an escape sequence is never printed raw.
      expect(() => workersFromEnv({ [WORKERS_ENV]: value })).not.toThrow(String.fromCharCode(27));
    },
  );
});
