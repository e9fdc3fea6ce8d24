/**
 * The main job's summary line, written without setting up `process.stdout`: on a pipe that stream loads
 * Node's net and stream modules, 2.4–2.9 ms of a ~70 ms run (1.4 ms on a file; docs/performance.md), for
 * one line.
 */
import { writeSync } from "node:fs";

/** What printLine writes with; the defaults are standard output's descriptor and stream. */
export interface LineOutput {
  /**
   * Writes from `bytes` at `offset`, returning how many bytes it took (fs.writeSync).
   * @default the process's descriptor 1
   */
  readonly writeSync?: (bytes: Uint8Array, offset: number) => number;
  /**
   * Where the rest goes when the descriptor takes no more at once.
   * @default process.stdout
   */
  readonly stream?: () => { write(bytes: Uint8Array): unknown };
}

/**
 * `console.log(text)` for a string, as console.log behaves: a failed write (a closed pipe: EPIPE) is
 * ignored. A descriptor that will not take all of it at once (a full non-blocking pipe: EAGAIN) gets the
 * rest through the stream, so nothing is lost and the order stays.
 *
 * Only for a process in which nothing else writes to standard output through `process.stdout`: on
 * macOS that stream writes pipes asynchronously, and this line could overtake what it still holds.
 */
export function printLine(text: string, output: LineOutput = {}): void {
  const write = output.writeSync ?? ((bytes, offset) => writeSync(1, bytes, offset));
  const bytes = Buffer.from(`${text}\n`);
  let written = 0;
  try {
    while (written < bytes.length) {
      const taken = write(bytes, written);
      // Nothing taken and no error: as full as EAGAIN says (and no endless loop).
      if (taken <= 0) throw Object.assign(new Error("descriptor took nothing"), { code: "EAGAIN" });
      written += taken;
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EAGAIN") return;
    (output.stream ?? (() => process.stdout))().write(bytes.subarray(written));
  }
}
