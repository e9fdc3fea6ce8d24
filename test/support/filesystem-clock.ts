/**
 * TEST SUPPORT: waiting for a filesystem's own clock. Some filesystems stamp ctimes from a coarse clock
 * (a tmpfs or devtmpfs without fine-grained timestamps: one tick is a few milliseconds), so a file
 * written, then changed within the same tick keeps its ctime; and src/synth-cache.ts rightly counts a
 * file as settled only once that clock has moved past it. Tests that need "later" on such a filesystem
 * wait for the next tick here instead of assuming a fine clock.
 */
import { statSync } from "node:fs";
import { filesystemInstant } from "../../src/synth-cache";

/** Blocks until a probe in `dir` has a ctime later than every one of `files`' ctimes (at most 2 s). */
export function waitForFilesystemTick(dir: string, files: readonly string[]): void {
  const latest = files.reduce((max, file) => {
    const ctime = statSync(file, { bigint: true }).ctimeNs;
    return ctime > max ? ctime : max;
  }, 0n);
  const deadline = Date.now() + 2_000;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    const instant = filesystemInstant(dir);
    if (instant === undefined) throw new Error(`cannot probe the clock of ${dir}`);
    if (instant.ctimeNs > latest) return;
    if (Date.now() > deadline) throw new Error(`the clock of ${dir} did not move past its files in 2 s`);
    Atomics.wait(pause, 0, 0, 1);
  }
}
