/**
 * The Node binaries `npm run test:all` tests on (22 and 24 LTS, pinned in scripts/test-node-versions.mjs
 * and cached outside the repository), so the bench can time the main job's start-up on each. Fetched
 * into the cache the first time, like the tests do.
 */
import { execFileSync } from "node:child_process";
import { join } from "node:path";

export interface NodeBinary {
  readonly line: string;
  readonly version: string;
  readonly binary: string;
}

export function nodeVersionBinaries(root: string): NodeBinary[] {
  const out = execFileSync(process.execPath, [join(root, "scripts/test-node-versions.mjs"), "--binaries"], {
    cwd: root,
    encoding: "utf8",
  });
  return JSON.parse(out.trim().split("\n").pop()!) as NodeBinary[];
}
