/**
 * Prints, after jest's own summary, the tests that were skipped (their names say why: see
 * test/support/tools.ts) and one plain closing line that CI tooling which does not read jest's summary
 * can count:
 *
 *   jest: N passed, N failed, N skipped
 *
 * Skipped counts skipped and todo tests, and tests left out by a name filter (-t).
 */
class SummaryReporter {
  onRunComplete(_contexts, results) {
    const skippedNames = results.testResults.flatMap((file) =>
      file.testResults.filter((t) => t.status === "pending" || t.status === "todo").map((t) => t.fullName),
    );
    // A -t filter skips most tests; list the names only when there are few enough to read.
    if (skippedNames.length > 0 && skippedNames.length <= 20) {
      process.stdout.write(`jest: skipped tests:\n${skippedNames.map((name) => `  - ${name}\n`).join("")}`);
    }
    const skipped = results.numPendingTests + results.numTodoTests;
    process.stdout.write(
      `jest: ${results.numPassedTests} passed, ${results.numFailedTests} failed, ${skipped} skipped\n`,
    );
  }
}

module.exports = SummaryReporter;
