/**
 * TEST SUPPORT ONLY: this repository as a component project that other projects include, with releases.
 * A copy of the working tree (the files git would commit) becomes a repository whose first commit is
 * tagged with the component's own version; each further release bumps `_awscred_version` in the template,
 * adds its CHANGELOG.md section and is tagged. Every tag passes scripts/release-notes.sh, as the release
 * job requires. A bare clone is placed under the git server's root.
 */
import { execFileSync } from "node:child_process";
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { componentFile, repoRoot } from "./ci-local";

const GIT = ["-c", "user.email=release@example.com", "-c", "user.name=release", "-c", "tag.gpgSign=false"];

export const git = (cwd: string, ...args: string[]): string =>
  execFileSync("git", [...GIT, ...args], { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

/** The component version the template declares (what every job prints and the release job checks). */
export function templateVersion(text = readFileSync(componentFile, "utf8")): string {
  const version = /^\s*_awscred_version=(\S+)\s*$/m.exec(text)?.[1];
  if (!version) throw new Error(`${componentFile} declares no _awscred_version`);
  return version;
}

export interface ComponentProject {
  /** The working copy the releases were made in. */
  readonly workdir: string;
  /** The bare repository under the server root: <root>/<projectPath>.git */
  readonly bare: string;
  /** Tags, oldest first. */
  readonly tags: readonly string[];
}

/**
 * Publishes the working tree as `projectPath` under `root` with the template's version and then each of
 * `laterReleases` (e.g. ["1.1.0", "2.0.0-rc.1"]) as tags.
 */
export function publishComponentProject(
  root: string,
  projectPath: string,
  laterReleases: readonly string[],
): ComponentProject {
  const workdir = join(mkdtempSync(join(tmpdir(), "component-project-")), "work");
  mkdirSync(workdir);
  const files = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], {
    cwd: repoRoot,
  });
  execFileSync("rsync", ["-a", "--from0", `--files-from=-`, `${repoRoot}/`, `${workdir}/`], {
    input: files,
    stdio: ["pipe", "ignore", "pipe"],
  });
  const tags = [templateVersion()];
  git(workdir, "init", "-q", "-b", "main");
  git(workdir, "add", "-A");
  git(workdir, "commit", "-q", "--no-verify", "-m", `Release ${tags[0]}`);
  releaseNotes(workdir, tags[0]!);
  git(workdir, "tag", "-a", tags[0]!, "-m", `aws-credentials ${tags[0]}`);

  for (const version of laterReleases) {
    const template = join(workdir, "templates", "aws-credentials.yml");
    writeFileSync(
      template,
      readFileSync(template, "utf8").replace(/^(\s*_awscred_version=)\S+$/m, `$1${version}`),
    );
    const changelog = join(workdir, "CHANGELOG.md");
    writeFileSync(
      changelog,
      readFileSync(changelog, "utf8").replace(
        "## [Unreleased]\n",
        `## [Unreleased]\n\n## [${version}] - 2026-11-26\n\n- Test release ${version}.\n`,
      ),
    );
    git(workdir, "commit", "-q", "--no-verify", "-am", `Release ${version}`);
    releaseNotes(workdir, version);
    git(workdir, "tag", version); // a lightweight tag: gitlab-ci-local and GitLab take both kinds
    tags.push(version);
  }

  const bare = join(root, `${projectPath}.git`);
  mkdirSync(dirname(bare), { recursive: true });
  git(root, "clone", "-q", "--bare", workdir, bare);
  // gitlab-ci-local clones with --filter=tree:0 and a sparse checkout of the component file.
  appendFileSync(join(bare, "config"), "[uploadpack]\n\tallowFilter = true\n");
  return { workdir, bare, tags };
}

/** The release job's check, run on the tagged commit: fails the publication like it fails the job. */
function releaseNotes(workdir: string, tag: string): string {
  return execFileSync("sh", ["scripts/release-notes.sh", tag], { cwd: workdir, encoding: "utf8" });
}
