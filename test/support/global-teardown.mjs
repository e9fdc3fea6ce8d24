/** jest's global teardown: removes the run's temporary directory and puts TMPDIR back (./scratch-dir.cjs). */
import { rmSync } from "node:fs";

export default async function globalTeardown() {
  const scratch = process.env.GITLAB_OIDC_TEST_SCRATCH;
  if (scratch) rmSync(scratch, { recursive: true, force: true });
  const before = process.env.GITLAB_OIDC_TEST_TMPDIR_BEFORE;
  if (before === undefined) return;
  if (before === "") delete process.env.TMPDIR;
  else process.env.TMPDIR = before;
  delete process.env.GITLAB_OIDC_TEST_SCRATCH;
  delete process.env.GITLAB_OIDC_TEST_TMPDIR_BEFORE;
}
