/**
 * Progress of a long synth on a terminal: `Synthesizing: 37/101 stacks` on one line of stderr,
 * rewritten in place and cleared at the end. Nothing at all when stderr is not a terminal (CI logs, a
 * pipe, a test) or the config is small enough to finish before anyone looks.
 */

/** Below this many roles a synth takes well under a second: no progress line. */
export const PROGRESS_MIN_ROLES = 100;

/** The part of a stream progress needs (process.stderr, or a stand-in in tests). */
export interface ProgressStream {
  readonly isTTY?: boolean;
  write(text: string): unknown;
}

export interface ProgressReporter {
  /** Shows `done/total stacks`. */
  readonly update: (done: number, total: number) => void;
  /** Clears the line (call before printing the result, also after a failure). */
  readonly end: () => void;
}

/**
 * A reporter for a synth of `roles` roles, or undefined when progress should not be shown. `openStream`
 * is called only for a config large enough: making process.stderr (a stream object, its pipe or TTY
 * handle) costs ~0.7 ms of a small synth's start-up, for a line it would never print.
 */
export function progressReporter(
  openStream: () => ProgressStream,
  roles: number,
): ProgressReporter | undefined {
  if (roles < PROGRESS_MIN_ROLES) return undefined;
  const stream = openStream();
  if (stream.isTTY !== true) return undefined;
  let shown = false;
  return {
    update: (done, total) => {
      // \r back to the line's start, ESC[2K erases it: the line is rewritten, not appended to.
      stream.write(`\r\x1b[2KSynthesizing: ${done}/${total} stacks`);
      shown = true;
    },
    end: () => {
      if (shown) stream.write("\r\x1b[2K");
      shown = false;
    },
  };
}
