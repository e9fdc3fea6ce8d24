/** The plain closing line CI reads (`jest: N passed, N failed, N skipped`) and the skip reasons above it. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const SummaryReporter = require("./support/summary-reporter.js") as new () => {
  onRunComplete(contexts: unknown, results: unknown): void;
};

const result = (fullName: string, status: string) => ({ fullName, status });

/** What the reporter writes, run on its own (`npm test`) or as a part of test:all (TEST_ALL_PART=1). */
function closingLines(results: object, { part = false } = {}): string {
  const previous = process.env.TEST_ALL_PART;
  if (part) process.env.TEST_ALL_PART = "1";
  else delete process.env.TEST_ALL_PART;
  const written: string[] = [];
  const spy = jest.spyOn(process.stdout, "write").mockImplementation((chunk) => {
    written.push(String(chunk));
    return true;
  });
  try {
    new SummaryReporter().onRunComplete(new Set(), results);
  } finally {
    spy.mockRestore();
    if (previous === undefined) delete process.env.TEST_ALL_PART;
    else process.env.TEST_ALL_PART = previous;
  }
  return written.join("");
}

describe("summary reporter", () => {
  test("counts passed, failed and skipped tests, and lists the tests skipped for want of a tool", () => {
    // GIVEN a run with 3 passed, 1 failed, one test skipped for a tool and one todo
    const skippedName = "x agrees with terraform [SKIPPED: terraform is not on PATH; install it]";
    const output = closingLines({
      numPassedTests: 3,
      numFailedTests: 1,
      numPendingTests: 1,
      numTodoTests: 1,
      testResults: [
        { testResults: [result("x a", "passed"), result(skippedName, "pending"), result("y", "todo")] },
      ],
    });
    // THEN the reason is listed and the closing line counts both skips
    expect(output).toBe(`jest: skipped:\n  - ${skippedName}\njest: 3 passed, 1 failed, 2 skipped\n`);
  });

  test("prints the skipped count even when it is zero", () => {
    const output = closingLines({
      numPassedTests: 5,
      numFailedTests: 0,
      numPendingTests: 0,
      numTodoTests: 0,
      testResults: [],
    });
    expect(output).toBe("jest: 5 passed, 0 failed, 0 skipped\n");
  });

  test("under test:all (TEST_ALL_PART=1) leaves the closing line to test-all.mjs, keeping the skip reasons", () => {
    const skippedName = "x [SKIPPED: terraform is not on PATH; install it]";
    const output = closingLines(
      {
        numPassedTests: 5,
        numFailedTests: 0,
        numPendingTests: 1,
        numTodoTests: 0,
        testResults: [{ testResults: [result(skippedName, "pending")] }],
      },
      { part: true },
    );
    expect(output).toBe(`jest: skipped:\n  - ${skippedName}\n`);
  });

  test("says whether the tool's tests or the team's checks (test/team/) failed", () => {
    // GIVEN a run where one tool test and two team checks failed
    const output = closingLines({
      numPassedTests: 4,
      numFailedTests: 3,
      numPendingTests: 0,
      numTodoTests: 0,
      testResults: [
        { testFilePath: "/repo/test/synth.test.ts", numFailingTests: 1, testResults: [] },
        { testFilePath: "/repo/test/team/team-config.test.ts", numFailingTests: 2, testResults: [] },
      ],
    });
    // THEN the closing line names both counts
    expect(output).toBe(
      "jest: 4 passed, 3 failed, 0 skipped (tool tests: 1 failed; team checks, test/team/: 2 failed)\n",
    );
  });
});
