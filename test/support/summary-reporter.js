/**
 * Prints, after jest's own summary, the tests skipped for want of a tool (their names say why: see
 * test/support/tools.ts) and one plain closing line that CI tooling which does not read jest's summary
 * can count:
 *
 *   jest: N passed, N failed, N skipped (tool tests: N failed; team checks, test/team/: N failed)
 *
 * The two kinds are told apart (docs/layout.md): a failing tool test is the tool's bug; a failing team
 * check is the team's config, lock or committed output (each check says what to run).
 * Skipped counts skipped and todo tests, and tests left out by a name filter (-t).
 *
 * Under scripts/test-all.mjs (TEST_ALL_PART=1) the closing line is left out: that script prints one
 * line for the whole command, counting jest's tests once, and CI reads lines of this format.
 */
class SummaryReporter {
  onRunComplete(_contexts, results) {
    // Tests skipped for want of a tool (their names carry the reason; a -t filter's skips do not).
    const skippedForATool = results.testResults.flatMap((file) =>
      file.testResults
        .filter((t) => t.status === "pending" && t.fullName.includes("[SKIPPED:"))
        .map((t) => t.fullName),
    );
    if (skippedForATool.length > 0) {
      process.stdout.write(`jest: skipped:\n${skippedForATool.map((name) => `  - ${name}\n`).join("")}`);
    }
    if (process.env.TEST_ALL_PART === "1") return;
    const skipped = results.numPendingTests + results.numTodoTests;
    const isTeamCheck = (file) => /[\\/]test[\\/]team[\\/]/.test(String(file.testFilePath ?? ""));
    const failedIn = (files) =>
      files.reduce((sum, file) => sum + file.numFailingTests + (file.testExecError ? 1 : 0), 0);
    const team = results.testResults.filter(isTeamCheck);
    const tool = results.testResults.filter((file) => !isTeamCheck(file));
    const kinds =
      team.length > 0
        ? ` (tool tests: ${failedIn(tool)} failed; team checks, test/team/: ${failedIn(team)} failed)`
        : "";
    process.stdout.write(
      `jest: ${results.numPassedTests} passed, ${results.numFailedTests} failed, ${skipped} skipped${kinds}\n`,
    );
  }
}

module.exports = SummaryReporter;
