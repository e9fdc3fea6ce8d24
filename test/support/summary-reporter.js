/**
 * Prints one plain closing line, `jest: N passed, N failed` (`, N skipped` when any), that CI tooling
 * which does not read jest's own summary can count.
 */
class SummaryReporter {
  onRunComplete(_contexts, results) {
    const skipped = results.numPendingTests + results.numTodoTests;
    const line = `jest: ${results.numPassedTests} passed, ${results.numFailedTests} failed`;
    process.stdout.write(`${line}${skipped > 0 ? `, ${skipped} skipped` : ""}\n`);
  }
}

module.exports = SummaryReporter;
