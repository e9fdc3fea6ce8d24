/**
 * Where a synth's output really is: shared by the synth (which writes there through a scratch directory
 * beside it) and the main job's up-to-date check, which must name the same directory without loading
 * the synth and cdktf.
 */
import { existsSync, realpathSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";

/** `path` with every symlink resolved, also for the part that does not exist yet. */
export function realLocation(path: string): string {
  const missing: string[] = [];
  let existing = path;
  while (!existsSync(existing) && dirname(existing) !== existing) {
    missing.unshift(basename(existing));
    existing = dirname(existing);
  }
  return join(realpathSync(existing), ...missing);
}

/** The real location of an output directory given relative to the working directory or absolute. */
export const realOutdir = (outdir: string): string => realLocation(resolve(outdir));
