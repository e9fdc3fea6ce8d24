/**
 * Releases of the component: the `release` job of this repository's pipeline (run by gitlab-ci-local on a
 * copy of the working tree; its failing tags in test/slow/aws-credentials-release.test.ts, one run each)
 * and scripts/release-notes.sh, which it runs, under dash and BusyBox sh (the release image is Alpine):
 * every refusal, fast.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { repoRoot } from "../support/ci-local";
import { TAG_PIPELINE, useRepositoryCopy, VERSION } from "../support/component-release";
import { listJobs, runGitlabCiLocal } from "../support/pipeline-repo";

describe("the release job in this repository's pipeline", () => {
  const repository = useRepositoryCopy();

  test("a tag pipeline lists it; a branch pipeline does not", () => {
    // GIVEN the pipeline WHEN gitlab-ci-local lists the jobs of a tag pipeline and of a main pipeline
    const tag = listJobs(repository(), TAG_PIPELINE(VERSION));
    const branch = listJobs(repository(), {
      CI_COMMIT_BRANCH: "main",
      CI_DEFAULT_BRANCH: "main",
      CI_PIPELINE_SOURCE: "push",
    });
    // THEN the tag pipeline has the release job (after the unit tests), the branch pipeline has none
    expect(tag.find((job) => job.name === "release")).toMatchObject({
      stage: "deploy",
      needs: [{ job: "unit-tests" }, { job: "release-on-default-branch" }],
    });
    expect(branch.map((job) => job.name)).not.toContain("release");
  }, 120_000);

  test("uses the release keyword with the notes the job wrote", () => {
    // GIVEN the pipeline's release job as GitLab reads it
    const text = readFileSync(join(repoRoot, ".gitlab-ci.yml"), "utf8");
    const job = /^release:\n((?: .*\n|\n)*)/m.exec(text)?.[1] ?? "";
    // THEN it makes the release itself (what the CI/CD Catalog publishes), from release-notes.md
    expect(job).toMatch(/^ {2}release:\n {4}tag_name: \$CI_COMMIT_TAG\n/m);
    expect(job).toContain("description: ./release-notes.md");
    expect(job).toContain('sh scripts/release-notes.sh "$CI_COMMIT_TAG"');
    expect(job).toMatch(/rules:\n\s+- if: \$CI_COMMIT_TAG/);
  });

  test("a semantic-version tag with a CHANGELOG section passes and prints the notes", () => {
    // WHEN the release job runs for the template's version
    const result = runGitlabCiLocal(
      repository(),
      ["release", "--force-shell-executor"],
      TAG_PIPELINE(VERSION),
    );
    // THEN it passes, and its notes are the CHANGELOG section
    expect(result.output).toContain("A minor release: one new input, `verify_profiles`.");
    expect(result.status).toBe(0);
  }, 120_000);
});

describe("scripts/release-notes.sh", () => {
  const work = mkdtempSync(join(tmpdir(), "release-notes-"));
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  const changelog = join(work, "CHANGELOG.md");
  const template = join(work, "template.yml");
  writeFileSync(
    changelog,
    [
      "# Changelog",
      "",
      "## [Unreleased]",
      "",
      "## [2.0.0-rc.1+build.5] - 2026-12-01",
      "",
      "- Candidate.",
      "",
      "## 1.2.0",
      "",
      "### Fixed",
      "",
      "- A thing.",
      "",
      "## [1.1.0] - 2026-11-01",
      "",
      "",
      "## [1.0.0] - 2026-10-01",
      "",
      "- First.",
      "",
    ].join("\n"),
  );
  const notes = (shell: string[], tag: string, version = tag) => {
    writeFileSync(template, `    - |\n      _awscred_version=${version}\n`);
    return spawnSync(
      shell[0]!,
      [...shell.slice(1), join(repoRoot, "scripts", "release-notes.sh"), tag, changelog, template],
      {
        encoding: "utf8",
      },
    );
  };

  describe.each([
    ["dash", ["/bin/dash"]],
    ["busybox sh", ["/usr/bin/busybox", "sh"]],
  ])("under %s", (_name, shell) => {
    test.each([
      ["2.0.0-rc.1+build.5", "- Candidate."],
      ["1.2.0", "### Fixed\n\n- A thing."],
      ["1.0.0", "- First."],
    ])("prints the section of %s, without surrounding blank lines", (tag, expected) => {
      const result = notes(shell, tag);
      expect(result.stderr).toBe("");
      expect(result.stdout).toBe(`${expected}\n`);
      expect(result.status).toBe(0);
    });

    test.each([
      ["1.1.0", "CHANGELOG.md has no section for 1.1.0 (or it is empty)"],
      ["3.0.0", "CHANGELOG.md has no section for 3.0.0"],
      ["1.0", "tag '1.0' is not a semantic version"],
      ["01.0.0", "tag '01.0.0' is not a semantic version"],
      ["1.0.0-", "tag '1.0.0-' is not a semantic version"],
      ["v1.0.0", "drop the v"],
      ["Unreleased", "tag 'Unreleased' is not a semantic version"],
    ])("refuses %s", (tag, message) => {
      const result = notes(shell, tag);
      expect(result.stderr).toContain(message);
      expect(result.stdout).toBe("");
      expect(result.status).toBe(1);
    });

    test("refuses a tag the template's _awscred_version does not match", () => {
      const result = notes(shell, "1.2.0", "1.1.0");
      expect(result.stderr).toContain(
        "says _awscred_version=1.1.0, the tag is 1.2.0: set _awscred_version=1.2.0",
      );
      expect(result.status).toBe(1);
    });
  });

  test("passes for this repository's CHANGELOG.md and template at the template's version", () => {
    const result = spawnSync("sh", ["scripts/release-notes.sh", VERSION], {
      cwd: repoRoot,
      encoding: "utf8",
    });
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
  });
});
