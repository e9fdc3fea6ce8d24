/**
 * test/support/run.ts, the one way tests start children: a child that outlives its deadline is killed
 * and fails the test with the command and its output; a missing command names the installer.
 */
import { CommandError, run, runAsync, runOk } from "../support/run";

const HANG = ["-c", "echo started; echo on-stderr >&2; sleep 30"];

describe("run (synchronous)", () => {
  test("kills a child that outlives its timeout and fails with the command and its output", () => {
    // GIVEN a child that prints and then hangs for 30 s
    const started = Date.now();
    // WHEN it is run with a 0.5 s timeout (time enough, even on a loaded machine, to print first)
    // THEN it is killed promptly and the error names the command and ends with its output
    expect(() => run("sh", HANG, { timeoutMs: 500 })).toThrow(
      /`sh -c 'echo started; echo on-stderr >&2; sleep 30'` did not finish within 0.5 s and was killed; its output ends:\nstarted\non-stderr/,
    );
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  test("without timeoutMs, the deadline is the running test's timeout", () => {
    expect(() => run("sh", HANG)).toThrow(/did not finish within 0.5 s and was killed/);
  }, 500);

  test("returns status and output of a child that finishes", () => {
    const result = run("sh", ["-c", "echo out; echo err >&2; exit 3"]);
    expect(result).toMatchObject({ status: 3, stdout: "out\n", stderr: "err\n", output: "out\nerr\n" });
  });

  test("runOk fails with the exit status and the tail of the output", () => {
    expect(() => runOk("sh", ["-c", "seq 1 100; exit 2"])).toThrow(
      /`sh -c 'seq 1 100; exit 2'` exited 2; its output ends:\n… \(60 earlier lines\)\n61\n[\s\S]*\n100$/,
    );
  });

  test("a command that is not installed names the installer instead of a bare ENOENT", () => {
    expect(() => run("no-such-tool-for-the-tests", [])).toThrow(
      /no-such-tool-for-the-tests is not installed or not on PATH\. Run `bash scripts\/ensure-test-tools\.sh`/,
    );
  });
});

describe("runAsync", () => {
  test("kills the child and its children at the deadline and rejects with the command and output", async () => {
    // GIVEN a child that hangs (its sleep is a grandchild)
    const started = Date.now();
    // WHEN it runs with a 0.5 s timeout THEN the promise rejects promptly with the output
    const error = await runAsync("sh", HANG, { timeoutMs: 500 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommandError);
    expect((error as Error).message).toMatch(/did not finish within 0.5 s and was killed;[\s\S]*started/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  test("passes stdin and resolves with the exit status", async () => {
    const result = await runAsync("sh", ["-c", "cat; exit 4"], { input: "hello" });
    expect(result).toMatchObject({ status: 4, stdout: "hello" });
  });
});
