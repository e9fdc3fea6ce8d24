/**
 * A repository a platform team owns (docs/layout.md), end to end with the real commands in throw-away
 * git repositories made from the tool's files: upstream's fresh clone runs on its example; the team's
 * copy starts its config with `npm run init`, adds its extension, commits its output; a scratch run
 * never touches terraform/; and version N+1 of the tool merges without conflicts and stays current.
 * The extension's stack planned with the real AWS provider: test/slow/extension-plan.test.ts.
 */
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfigFile } from "../../src/config/load";
import { loadExtension } from "../../src/extension/load";
import { TEAM_FILES } from "../../src/layout";
import { filesUnder } from "../support/configs";
import { TOOL_ROOT } from "../support/example";
import { run, runOk } from "../support/run";
import { freshSynth, lockGaps, outputDifferences } from "../support/team-checks";

const GIT = ["-c", "user.email=team@example.com", "-c", "user.name=team", "-c", "init.defaultBranch=main"];
const FIXTURE = join(TOOL_ROOT, "test", "fixtures", "extension");

let base: string;
let upstream: string;
let team: string;
const git = (cwd: string, ...args: string[]) =>
  runOk("git", [...GIT, ...args], { cwd, timeoutMs: 20_000 }).stdout;
/** An npm script as `npm run` runs it: the build check and the entry point in one process. */
const npm = (cwd: string, entry: string, args: string[] = [], env: NodeJS.ProcessEnv = {}) =>
  run(process.execPath, ["scripts/build.mjs", "--run", entry, ...args], {
    cwd,
    env: { ...process.env, GITLAB_OIDC_CONFIG: "", CDKTF_OUTDIR: "", ...env },
    timeoutMs: 60_000,
  });
/** Every file under `dir` with its content: to show a tree unchanged, byte for byte. */
const snapshot = (dir: string) =>
  Object.fromEntries(filesUnder(dir).map((file) => [file, readFileSync(join(dir, file), "utf8")]));

beforeAll(() => {
  // GIVEN upstream at version N: the tool's files as a git repository (never the team's files)
  base = mkdtempSync(join(tmpdir(), "team-repo-"));
  upstream = join(base, "upstream");
  const files = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], {
    cwd: TOOL_ROOT,
  })
    .toString()
    .split("\0")
    .filter((file) => file && !TEAM_FILES.some((team) => file === team || file.startsWith(`${team}/`)));
  runOk("rsync", ["-a", "--from0", "--files-from=-", `${TOOL_ROOT}/`, `${upstream}/`], {
    input: files.join("\0"),
    timeoutMs: 30_000,
  });
  symlinkSync(join(TOOL_ROOT, "node_modules"), join(upstream, "node_modules"));
  git(upstream, "init", "-q");
  git(upstream, "add", "-A");
  git(upstream, "commit", "-q", "-m", "tool N");
}, 60_000);
afterAll(() => rmSync(base, { recursive: true, force: true }));

test("a fresh clone's main command synthesizes the example into examples/basic/ exactly as committed, and says how to start", () => {
  // WHEN npm run synth runs in upstream's clone, which has no gitlab-oidc.yaml
  const synth = npm(upstream, "dist/main.js");
  // THEN it succeeds on the example, writes exactly its committed output, and names npm run init
  expect(synth.status === 0 ? "" : synth.output).toBe("");
  expect(synth.stdout).toMatch(
    /from examples\/basic\/gitlab-oidc\.yaml into examples\/basic\/terraform\/stacks\//,
  );
  expect(synth.stdout).toMatch(/npm run init/);
  expect(git(upstream, "status", "--porcelain")).toBe("");
});

describe("the team's copy", () => {
  beforeAll(() => {
    // GIVEN the team's clone of upstream
    team = join(base, "team");
    git(base, "clone", "-q", upstream, team);
    symlinkSync(join(TOOL_ROOT, "node_modules"), join(team, "node_modules"));
  }, 30_000);

  test("npm run init writes a starting config from the example and refuses to overwrite it", () => {
    // WHEN init runs THEN gitlab-oidc.yaml is the example with the schema pointer from the root
    const first = npm(team, "dist/src/init/cli.js");
    expect(first.status === 0 ? "" : first.output).toBe("");
    const written = readFileSync(join(team, "gitlab-oidc.yaml"), "utf8");
    expect(written.split("\n")[0]).toBe("# yaml-language-server: $schema=./schema/gitlab-oidc.schema.json");
    expect(written.split("\n").slice(1)).toEqual(
      readFileSync(join(team, "examples/basic/gitlab-oidc.yaml"), "utf8").split("\n").slice(1),
    );
    // AND a second run refuses, exit 1, leaving the team's edits
    writeFileSync(join(team, "gitlab-oidc.yaml"), `${written}# edited by the team\n`);
    const again = npm(team, "dist/src/init/cli.js");
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/gitlab-oidc\.yaml exists already; nothing was written/);
    expect(readFileSync(join(team, "gitlab-oidc.yaml"), "utf8")).toBe(`${written}# edited by the team\n`);
  });

  test("its own config, lock and extension synthesize into terraform/, extension resources included", () => {
    // GIVEN the team's config, lock and extension (the fixture's; its imports from the root)
    cpSync(join(FIXTURE, "gitlab-oidc.yaml"), join(team, "gitlab-oidc.yaml"));
    cpSync(join(FIXTURE, "gitlab-oidc.lock.yaml"), join(team, "gitlab-oidc.lock.yaml"));
    writeFileSync(
      join(team, "gitlab-oidc.extend.ts"),
      readFileSync(join(FIXTURE, "gitlab-oidc.extend.ts"), "utf8").replace(
        '"../../../src/extension"',
        '"./src/extension"',
      ),
    );
    // WHEN npm run synth runs
    const synth = npm(team, "dist/main.js");
    // THEN terraform/ holds the extension's resources and ACCESS.md its role; the example is untouched
    expect(synth.status === 0 ? "" : synth.output).toBe("");
    expect(synth.stdout).toMatch(/into terraform\/stacks\/ .* with gitlab-oidc\.extend\.ts/);
    expect(readFileSync(join(team, "terraform/stacks/production/cdk.tf"), "utf8")).toContain(
      'resource "aws_iam_policy" "gitlab-boundary"',
    );
    expect(readFileSync(join(team, "terraform/ACCESS.md"), "utf8")).toContain("gitlab-bounded-assets");
    expect(git(team, "status", "--porcelain", "--", "examples")).toBe("");
    git(team, "add", "-A");
    git(team, "commit", "-q", "-m", "our config, extension and output");
  });

  test("a scratch config writes beside itself and leaves terraform/ byte-identical", () => {
    // GIVEN the committed terraform/ and a scratch config
    const before = snapshot(join(team, "terraform"));
    cpSync(join(FIXTURE, "gitlab-oidc.yaml"), join(team, "scratch", "try.yaml"), { recursive: true });
    cpSync(join(FIXTURE, "gitlab-oidc.lock.yaml"), join(team, "scratch", "try.lock.yaml"));
    writeFileSync(
      join(team, "scratch", "try.yaml"),
      readFileSync(join(team, "scratch", "try.yaml"), "utf8").replace("name: staging", "name: sandbox"),
    );
    // WHEN npm run synth runs on it
    const synth = npm(team, "dist/main.js", [], { GITLAB_OIDC_CONFIG: "scratch/try.yaml" });
    // THEN it wrote scratch/try.terraform/, and terraform/ is byte for byte as before
    expect(synth.status === 0 ? "" : synth.output).toBe("");
    expect(filesUnder(join(team, "scratch", "try.terraform"))).toContain("stacks/sandbox/cdk.tf");
    expect(snapshot(join(team, "terraform"))).toEqual(before);
    // AND --out writes where it is told
    const out = npm(team, "dist/main.js", ["--out", join(base, "elsewhere")], {
      GITLAB_OIDC_CONFIG: "scratch/try.yaml",
    });
    expect(out.status === 0 ? "" : out.output).toBe("");
    expect(filesUnder(join(base, "elsewhere"))).toContain("stacks/sandbox/cdk.tf");
    expect(snapshot(join(team, "terraform"))).toEqual(before);
    rmSync(join(team, "scratch"), { recursive: true, force: true });
  });

  test("takes version N+1 with git merge: no conflict in its files, and its output stays current", () => {
    // GIVEN upstream's N+1: a changed tool file, version and changelog, and a changed example with its
    // regenerated output
    const edit = (file: string, change: (text: string) => string) =>
      writeFileSync(join(upstream, file), change(readFileSync(join(upstream, file), "utf8")));
    edit("docs/layout.md", (text) => `${text}\nA line of version N+1.\n`);
    edit("package.json", (text) => text.replace(/"version": "[^"]+"/, '"version": "99.0.0"'));
    edit("CHANGELOG.md", (text) =>
      text.replace("## [Unreleased]", "## [Unreleased]\n\n### Tool 99.0.0\n\n- N+1."),
    );
    edit("examples/basic/gitlab-oidc.yaml", (text) =>
      text.replace("Deploys the web app from main and release branches", "Deploys the web app (N+1)"),
    );
    const regenerated = npm(upstream, "dist/main.js");
    expect(regenerated.status === 0 ? "" : regenerated.output).toBe("");
    git(upstream, "commit", "-q", "-am", "tool N+1");
    expect(git(upstream, "show", "--stat", "--format=", "HEAD")).toMatch(
      /examples\/basic\/terraform\/ACCESS\.md/,
    );
    // WHEN the team merges it
    git(team, "pull", "-q", "--no-rebase", "--no-edit", "origin", "main");
    // THEN nothing conflicted, the team's files are as it committed them, and its output is current
    expect(git(team, "diff", "--name-only", "HEAD~1", "HEAD", "--", ...TEAM_FILES)).toBe("");
    expect(readFileSync(join(team, "package.json"), "utf8")).toContain('"version": "99.0.0"');
    const synth = npm(team, "dist/main.js");
    expect(synth.status === 0 ? "" : synth.output).toBe("");
    expect(git(team, "status", "--porcelain")).toBe("");
    // AND the team checks pass on its files
    const config = loadConfigFile(join(team, "gitlab-oidc.yaml"));
    expect(lockGaps(join(team, "gitlab-oidc.yaml"), config)).toEqual([]);
    const fresh = freshSynth(
      config,
      loadExtension(join(FIXTURE, "gitlab-oidc.extend.ts")),
      join(team, "gitlab-oidc.yaml"),
    );
    try {
      expect(outputDifferences(join(team, "terraform"), fresh.dir)).toEqual([]);
    } finally {
      fresh.cleanup();
    }
  });
});
