/**
 * TEST SUPPORT ONLY: a tag pipeline of this repository, for the release job's tests (e2e and slow).
 */
import { templateVersion } from "./component-project";
import { copyRepository, removeRepository } from "./pipeline-repo";

/** The component version the template declares (read from it, never pinned in a test). */
export const VERSION = templateVersion();

/** The variables of a pipeline for `tag`, as GitLab sets them for a protected tag push. */
export const TAG_PIPELINE = (tag: string): Record<string, string> => ({
  CI_COMMIT_TAG: tag,
  CI_COMMIT_REF_NAME: tag,
  CI_PIPELINE_SOURCE: "push",
  // Releases run for protected tags only (issue 18).
  CI_COMMIT_REF_PROTECTED: "true",
});

/**
 * A copy of this repository for gitlab-ci-local, made before the calling describe's tests and removed
 * after them; the returned function gives its directory.
 */
export function useRepositoryCopy(): () => string {
  let dir: string;
  beforeAll(() => {
    dir = copyRepository();
  }, 120_000);
  afterAll(() => removeRepository(dir));
  return () => dir;
}
