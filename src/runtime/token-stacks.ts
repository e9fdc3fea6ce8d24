/**
 * cdktf 0.21 records a full-depth stack trace for every token it makes (each attribute reference,
 * function call, lazy value, block list), into a plain object, and formats it at once: at thousands of
 * roles that is seconds of the synth and much garbage, and the first trace in a bundled run makes V8
 * index the lines of the whole 1.2 MB bundle (~1.5 ms). cdktf reads them only to decorate its own errors
 * about unresolvable tokens (the App is built with `stackTraces: false` anyway). Nothing here imports
 * cdktf: main.ts loads cdktf's modules, which make tokens as they load, under it too.
 */

/** What Error.prepareStackTrace was before install(), to restore. */
type Prepare = typeof Error.prepareStackTrace;

/** While installed, a stack captured into anything that is not an Error formats as ""; an Error's as before. */
function install(): Prepare {
  const previous = Error.prepareStackTrace;
  Error.prepareStackTrace = (error: unknown, frames: NodeJS.CallSite[]): unknown => {
    if (!(error instanceof Error)) return "";
    if (previous) return previous(error, frames);
    // Node's own format, which assigning Error.prepareStackTrace replaces.
    return [String(error), ...frames.map((frame) => `    at ${String(frame)}`)].join("\n");
  };
  return previous;
}

/** Runs `work` with cdktf's token creation stacks left empty (cdktf then records no frames). */
export function withoutTokenCreationStacks<T>(work: () => T): T {
  const previous = install();
  try {
    return work();
  } finally {
    Error.prepareStackTrace = previous;
  }
}

/** withoutTokenCreationStacks until the promise `work` returns settles: for loading modules. */
export async function withoutTokenCreationStacksUntil<T>(work: () => Promise<T>): Promise<T> {
  const previous = install();
  try {
    return await work();
  } finally {
    Error.prepareStackTrace = previous;
  }
}
