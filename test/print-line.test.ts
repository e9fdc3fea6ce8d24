/**
 * printLine (src/runtime/print-line.ts) writes the main job's summary as console.log would, straight to
 * the descriptor: the whole line in order, the rest through the stream when the descriptor is full, and
 * a failed write ignored as console.log ignores it.
 */
import { printLine } from "../src/runtime/print-line";

/** A descriptor that takes `chunks` bytes per write, then throws `error` (if any), and a stream. */
function fakeOutput(chunks: number[], error?: string) {
  const descriptor: string[] = [];
  const stream: string[] = [];
  let calls = 0;
  return {
    descriptor,
    stream,
    output: {
      writeSync: (bytes: Uint8Array, offset: number) => {
        const take = chunks[calls++];
        if (take === undefined) throw Object.assign(new Error(error ?? "no more"), { code: error });
        descriptor.push(Buffer.from(bytes.subarray(offset, offset + take)).toString());
        return take;
      },
      stream: () => ({ write: (bytes: Uint8Array) => stream.push(Buffer.from(bytes).toString()) }),
    },
  };
}

test("GIVEN a descriptor that takes everything WHEN a line is printed THEN it is the text and a newline", () => {
  const { descriptor, stream, output } = fakeOutput([12]);
  printLine("Synthesized", output);
  expect(descriptor).toEqual(["Synthesized\n"]);
  expect(stream).toEqual([]);
});

test("GIVEN partial writes WHEN a line is printed THEN the pieces follow each other", () => {
  const { descriptor, output } = fakeOutput([3, 4, 5]);
  printLine("Synthesized", output);
  expect(descriptor.join("")).toBe("Synthesized\n");
});

test("GIVEN a full non-blocking pipe (EAGAIN) WHEN a line is printed THEN the rest goes through the stream", () => {
  const { descriptor, stream, output } = fakeOutput([4], "EAGAIN");
  printLine("Synthesized é", output);
  expect(descriptor).toEqual(["Synt"]);
  expect(stream).toEqual(["hesized é\n"]);
});

test("GIVEN a closed pipe (EPIPE) WHEN a line is printed THEN nothing throws, as with console.log", () => {
  const { stream, output } = fakeOutput([], "EPIPE");
  expect(() => printLine("Synthesized", output)).not.toThrow();
  expect(stream).toEqual([]);
});

test("GIVEN a descriptor that takes nothing and says nothing THEN the rest goes through the stream", () => {
  const { descriptor, stream, output } = fakeOutput([2, 0]);
  printLine("Synthesized", output);
  expect(descriptor).toEqual(["Sy", ""]);
  expect(stream).toEqual(["nthesized\n"]);
});
