/** jest's global teardown: removes the run's temporary directory (./scratch-dir.cjs). */
import { rmSync } from "node:fs";

export default async function globalTeardown() {
  const scratch = process.env.GITLAB_OIDC_TEST_SCRATCH;
  if (scratch) rmSync(scratch, { recursive: true, force: true });
}
