import { isNativeError } from "node:util/types";
import { setFlagsFromString } from "node:v8";
import { installChildDeadlines, takeDeadlineKills } from "./support/child-deadline";

// No child process outlives its test: see test/support/child-deadline.ts.
installChildDeadlines();
afterEach(() => {
  const killed = takeDeadlineKills();
  if (killed.length > 0) throw new Error(killed.join("\n\n"));
});

// HCL's parser and formatter (@cdktf/hcl2json, @cdktf/hcl-tools) are Go compiled to WebAssembly, ~10 MB:
// V8's optimizing tier recompiled it in the background on every parse, ~0.4 s of CPU to load it and
// ~50 ms for each parse after, in every test file that reads HCL back. Its baseline compiler (Liftoff)
// alone loads it in a third of that and parses a stack in ~7 ms; the results are the same, only the
// machine code differs. Set once per worker, before any of them is compiled.
setFlagsFromString("--liftoff-only");

// cdktf records where each token was made (Error.captureStackTrace on a plain `{ stack: "" }`, with no
// frame limit) and never shows it; jest's source-map support mapped every frame of those, ~1.4 s of the
// unit tier's CPU. Such objects get V8's own frame format; errors keep jest's mapped stacks.
const mappedStackTrace = Error.prepareStackTrace;
if (mappedStackTrace) {
  Error.prepareStackTrace = (thrown: unknown, frames: NodeJS.CallSite[]) =>
    isNativeError(thrown)
      ? mappedStackTrace(thrown, frames)
      : ["Error", ...frames.map((frame) => `    at ${String(frame)}`)].join("\n");
}
