/** `npm run bench` takes its settings from the environment; an argument never starts a 10-minute run. */
import { run } from "../support/run";

describe("npm run bench", () => {
  test("-- --help prints the usage and the settings, and exits at once", () => {
    // WHEN the benchmark is asked for help (a run would outlive the 60 s deadline and fail the test)
    const result = run("npm", ["run", "-s", "bench", "--", "--help"], { timeoutMs: 25_000 });
    // THEN it prints how to run it and every setting, and exits 0
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^Usage: npm run bench/);
    for (const setting of ["BENCH_RUNS", "BENCH_SCALES", "BENCH_SKIP_TESTS", "BENCH_OUT"]) {
      expect(result.stdout).toContain(setting);
    }
  });

  test("an unknown argument is refused with the usage (exit 2), not taken for a run", () => {
    const result = run("npm", ["run", "-s", "bench", "--", "--runs=1"], { timeoutMs: 25_000 });
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/^bench: unknown argument --runs=1\n\nUsage: npm run bench/);
  });
});
