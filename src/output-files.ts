/**
 * The synth's record of what it wrote (`synthesized-files.json`) and the one rule for every path it
 * writes or deletes: the real location (symlinks resolved) stays inside the output's real location. The
 * record is a file anyone can edit, and a folder under the output can be a symlink to anywhere, so both
 * are checked before anything moves.
 */
import { existsSync, lstatSync, readFileSync, realpathSync } from "node:fs";
import { basename, dirname, isAbsolute, join, normalize, relative, sep } from "node:path";

/** The record of what a synth wrote, relative to the output directory. */
export const WRITTEN_FILES_RECORD = "synthesized-files.json";

/** A refusal with a message for the person at the terminal (no trace): bad record, path outside. */
export class OutputFilesError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "OutputFilesError";
  }
}

/** What the record holds: the files written, and the digests of the inputs they came from. */
export interface WrittenRecord {
  readonly files: readonly string[];
  /** `config` / `lock` → `sha256:<hex>` (or `absent` for no lock) of the texts synthesized. */
  readonly sources?: Readonly<Record<string, string>>;
}

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

/** Whether `path` is `root` or below it (both real, absolute). */
export function isWithin(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === "" || (!isAbsolute(rel) && rel.split(sep)[0] !== "..");
}

/**
 * Refuses `file` (relative to the real `outdir`) unless its folder's real location is inside `outdir`:
 * a symlinked folder must not carry a write or a delete elsewhere. The file itself may be a symlink:
 * a rename or delete replaces the link, never its target.
 */
export function refuseOutside(outdir: string, file: string, what: "write" | "delete"): void {
  const folder = realLocation(dirname(join(outdir, file)));
  if (!isWithin(outdir, folder)) {
    throw new OutputFilesError(
      `refusing to ${what} ${file} in ${outdir}: its folder leads outside the output directory (to ${folder}, ` +
        "through a symlink); remove the symlink or the record's entry. Nothing was written or deleted.",
    );
  }
}

/** A relative, normalized path that stays inside: what a record entry must be. */
export function isPlainRelativePath(file: string): boolean {
  return (
    file !== "" &&
    !isAbsolute(file) &&
    normalize(file) === file &&
    !file.split(/[\\/]/).includes("..") &&
    !file.includes("\0")
  );
}

/**
 * The record in `outdir`, checked for its shape; undefined when there is none. Refuses (before anything
 * moves) one that is not JSON, not `{"files": [relative paths]}`, or lists a path that leaves the output.
 */
export function readWrittenRecord(outdir: string): WrittenRecord | undefined {
  const file = join(outdir, WRITTEN_FILES_RECORD);
  if (!existsSync(file)) return undefined;
  const refuse = (why: string) =>
    new OutputFilesError(
      `${file}: ${why}. It is the synth's record of the files it wrote ({"files": ["stacks/…/cdk.tf", …]}); ` +
        "restore it from git (or delete it: the synth then goes by manifest.json). Nothing was written or deleted.",
    );
  if (!lstatSync(file).isFile()) throw refuse("not a regular file");
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw refuse(`not valid JSON (${(error as Error).message})`);
  }
  if (typeof data !== "object" || data === null || Array.isArray(data))
    throw refuse("expected an object with a files list");
  const { files, sources } = data as { files?: unknown; sources?: unknown };
  if (!Array.isArray(files)) throw refuse('"files" must be a list of paths');
  for (const entry of files) {
    if (typeof entry !== "string") throw refuse(`"files" holds ${JSON.stringify(entry)}, not a path`);
    if (!isPlainRelativePath(entry))
      throw refuse(`"files" lists ${JSON.stringify(entry)}, which is not a path inside the output directory`);
  }
  if (sources !== undefined) {
    const valid =
      typeof sources === "object" &&
      sources !== null &&
      !Array.isArray(sources) &&
      Object.values(sources).every((value) => typeof value === "string");
    if (!valid) throw refuse('"sources" must map names to digests');
  }
  return { files, ...(sources !== undefined ? { sources: sources as Record<string, string> } : {}) };
}

/**
 * The files its cdktf manifest names (both stack file formats), for an output written before records
 * existed; refuses a manifest that is not of cdktf's shape.
 */
export function filesOfManifest(outdir: string): string[] | undefined {
  const file = join(outdir, "manifest.json");
  if (!existsSync(file)) return undefined;
  const refuse = (why: string) =>
    new OutputFilesError(`${file}: ${why}; restore it from git. Nothing was written or deleted.`);
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw refuse(`not valid JSON (${(error as Error).message})`);
  }
  const stacks = (data as { stacks?: unknown } | null)?.stacks ?? {};
  if (typeof stacks !== "object" || stacks === null || Array.isArray(stacks))
    throw refuse('"stacks" must be an object');
  return Object.values(stacks).flatMap((stack: unknown) => {
    const dir = (stack as { workingDirectory?: unknown } | null)?.workingDirectory;
    if (typeof dir !== "string" || !isPlainRelativePath(dir))
      throw refuse("a stack's workingDirectory is not a path inside the output directory");
    return ["cdk.tf", "cdk.tf.json", "metadata.json"].map((name) => join(dir, name));
  });
}
