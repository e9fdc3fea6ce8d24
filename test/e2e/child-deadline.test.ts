/**
 * No child process outlives its test (test/support/child-deadline.ts, installed by test/setup.ts):
 * calls without a timeout of their own get the test's timeout, and fail with the command and output.
 */
import { execFile, execFileSync, execSync, spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { promisify } from "node:util";
import { takeDeadlineKills } from "../support/child-deadline";
import { asyncMargin } from "../support/run";

const HANG = ["-c", "echo started; exec sleep 6"];

describe("children without a timeout of their own", () => {
  test("a spawnSync that blocks past the test's 0.5 s timeout is killed and fails the test", () => {
    // GIVEN a test with a 0.5 s timeout (jest cannot interrupt it while spawnSync blocks)
    const started = Date.now();
    // WHEN it starts a child that hangs for 6 s
    // THEN the child is killed at 0.5 s and the call throws with the command and its output
    expect(() => spawnSync("sh", HANG, { encoding: "utf8" })).toThrow(
      /`sh -c 'echo started; exec sleep 6'` did not finish within 0.5 s \(its test's timeout\) and was killed; its output ends:\nstarted/,
    );
    expect(Date.now() - started).toBeLessThan(5_000);
  }, 500);

  test("execFileSync and execSync too", () => {
    expect(() => execFileSync("sh", HANG)).toThrow(/did not finish within 0.5 s[\s\S]*started/);
    expect(() => execSync("echo started; sleep 6")).toThrow(/`sh -c 'echo started; sleep 6'` did not finish/);
  }, 500);

  test("an asynchronous child is killed well before jest's timeout and reported with its output", async () => {
    // GIVEN a test with a 2 s timeout WHEN an asynchronous child hangs
    const child = spawn("sh", HANG);
    const [, signal] = (await once(child, "exit")) as [number | null, NodeJS.Signals | null];
    // THEN it was killed at 1 s, half of the short timeout (a second left for jest even on a loaded
    // machine), and the failure names the command and output (taken here, so that this test does not
    // fail on it as any other test would)
    expect(signal).toBe("SIGKILL");
    expect(takeDeadlineKills()).toEqual([
      expect.stringMatching(/within 1 s .*killed; its output ends:\nstarted/s),
    ]);
  }, 2_000);

  test.each([
    [2_000, 1_000],
    [4_000, 2_000],
    [30_000, 25_000],
    [120_000, 108_000],
  ])("with a %i ms test timeout an asynchronous child is killed at %i ms", (timeout, deadline) => {
    expect(timeout - asyncMargin(timeout)).toBe(deadline);
  });

  test("promisify(execFile) still resolves with stdout and stderr", async () => {
    await expect(promisify(execFile)("sh", ["-c", "echo out; echo err >&2"])).resolves.toEqual({
      stdout: "out\n",
      stderr: "err\n",
    });
  });

  test("a call with its own timeout keeps it and its own handling", () => {
    // (0.5 s: time enough for sh to print first on a loaded machine; 0.2 s was not)
    const result = spawnSync("sh", HANG, { timeout: 500, encoding: "utf8" });
    expect((result.error as NodeJS.ErrnoException).code).toBe("ETIMEDOUT");
    expect(result.stdout).toBe("started\n");
  });
});
