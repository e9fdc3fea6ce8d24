/**
 * Breadth for the component's releases: the `release` job of this repository's pipeline (gitlab-ci-local
 * on a copy of the working tree) failing a tag, one run per tag. The e2e tier runs the passing tag
 * (test/e2e/aws-credentials-release.test.ts) and every refusal of scripts/release-notes.sh directly.
 */
import { TAG_PIPELINE, useRepositoryCopy, VERSION } from "../support/component-release";
import { runGitlabCiLocal } from "../support/pipeline-repo";

describe("the release job in this repository's pipeline", () => {
  const repository = useRepositoryCopy();

  test("a tag without a CHANGELOG section fails, saying what to add", () => {
    const result = runGitlabCiLocal(
      repository(),
      ["release", "--force-shell-executor"],
      TAG_PIPELINE("9.9.9"),
    );
    expect(result.status).not.toBe(0);
    expect(result.output).toContain(
      "CHANGELOG.md has no section for 9.9.9 (or it is empty): add '## [9.9.9] - YYYY-MM-DD'",
    );
  }, 120_000);

  test("a tag that is not a semantic version fails, saying why", () => {
    const result = runGitlabCiLocal(
      repository(),
      ["release", "--force-shell-executor"],
      TAG_PIPELINE(`v${VERSION}`),
    );
    expect(result.status).not.toBe(0);
    expect(result.output).toContain(`tag 'v${VERSION}' is not a semantic version: drop the v`);
  }, 120_000);
});
