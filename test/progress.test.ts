import { PROGRESS_MIN_ROLES, progressReporter } from "../src/runtime/progress";

/** A stand-in for process.stderr that keeps what is written. */
function stream(isTTY: boolean) {
  const written: string[] = [];
  return { isTTY, written, write: (text: string) => written.push(text) };
}

describe("synth progress", () => {
  test("on a terminal, a config with hundreds of roles shows stacks done / total on one line, then clears it", () => {
    // GIVEN stderr is a terminal and the config has 300 roles
    const terminal = stream(true);
    const progress = progressReporter(() => terminal, 300)!;
    // WHEN two of three stacks are done, then the synth ends
    progress.update(1, 3);
    progress.update(2, 3);
    progress.end();
    // THEN each update rewrites the line in place, and the end erases it
    expect(terminal.written).toEqual([
      "\r\x1b[2KSynthesizing: 1/3 stacks",
      "\r\x1b[2KSynthesizing: 2/3 stacks",
      "\r\x1b[2K",
    ]);
  });

  test("prints nothing when stderr is not a terminal (CI logs, pipes), whatever the size", () => {
    expect(progressReporter(() => stream(false), 5000)).toBeUndefined();
  });

  test("prints nothing for a small config, even on a terminal", () => {
    const open = jest.fn(() => stream(true));
    expect(progressReporter(open, PROGRESS_MIN_ROLES - 1)).toBeUndefined();
    // AND the stream is not even made (process.stderr costs start-up time to create)
    expect(open).not.toHaveBeenCalled();
    expect(progressReporter(open, PROGRESS_MIN_ROLES)).toBeDefined();
  });

  test("ending without any update writes nothing", () => {
    const terminal = stream(true);
    progressReporter(() => terminal, 500)!.end();
    expect(terminal.written).toEqual([]);
  });
});
