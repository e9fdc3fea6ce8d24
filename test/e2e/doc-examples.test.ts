/**
 * The examples in the README and docs/ that can be run are run, and their printed lines compared with
 * the text in the docs, so the docs cannot drift from what the commands print.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { run, runOk } from "../support/run";

const ROOT = join(__dirname, "..", "..");
const doc = (file: string) => readFileSync(join(ROOT, file), "utf8");

/** The body of the first fenced block with this info string that follows `after` in `text`. */
function blockAfter(text: string, after: string, info: string): string {
  const start = text.indexOf(after);
  expect(start).toBeGreaterThanOrEqual(0);
  const match = new RegExp("^```" + info + "\\n([\\s\\S]*?)^```$", "m").exec(text.slice(start));
  return match![1]!;
}

/** The example's copy as gitlab-oidc.yaml in a scratch directory: explain synthesizes it beside itself. */
let scratchExample: string;
beforeAll(() => {
  runOk(process.execPath, [join(ROOT, "scripts", "build.mjs")], { cwd: ROOT, timeoutMs: 25_000 });
  const dir = mkdtempSync(join(tmpdir(), "doc-explain-"));
  scratchExample = join(dir, "gitlab-oidc.yaml");
  copyFileSync(join(ROOT, "test/fixtures/configs/example.yaml"), scratchExample);
  copyFileSync(join(ROOT, "test/fixtures/configs/example.lock.yaml"), join(dir, "gitlab-oidc.lock.yaml"));
  runOk(process.execPath, [join(ROOT, "dist", "main.js")], {
    cwd: ROOT,
    env: { ...process.env, GITLAB_OIDC_CONFIG: scratchExample },
    timeoutMs: 25_000,
  });
});
afterAll(() => scratchExample && rmSync(dirname(scratchExample), { recursive: true, force: true }));

describe("README", () => {
  test("the error example is what the synth prints for the example config with those two mistakes", () => {
    // GIVEN the README's example output, and gitlab-oidc.yaml with the two mistakes it names (a
    // wildcard in the first project path, the staging account ID unquoted)
    const readme = doc("README.md");
    expect(readme).toMatch(/with `project: acme\/\*` and the staging account ID unquoted/);
    const expected = blockAfter(readme, "A config with problems exits 1", "text");
    const dir = mkdtempSync(join(tmpdir(), "doc-example-"));
    try {
      writeFileSync(
        join(dir, "gitlab-oidc.yaml"),
        doc("test/fixtures/configs/example.yaml")
          .replace("project: acme/web", "project: acme/*")
          .replace('accountId: "222222222222"', "accountId: 222222222222"),
      );
      // WHEN the main job runs on it, from the directory holding it
      const synth = run(process.execPath, [join(ROOT, "dist", "main.js")], {
        cwd: dir,
        env: { ...process.env, GITLAB_OIDC_CONFIG: "gitlab-oidc.yaml", CDKTF_OUTDIR: join(dir, "out") },
        timeoutMs: 25_000,
      });
      // THEN it prints exactly the README's lines (if this fails after a config change, update the README)
      expect(synth.status).toBe(1);
      expect(synth.stderr).toBe(expected);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("docs/explain.md", () => {
  test("the AccessDenied walk-through prints what the doc shows", () => {
    // GIVEN the doc's console example: a command line and its output
    const [command, ...output] = blockAfter(doc("docs/explain.md"), "Run that command", "console")
      .replace(/ \\\n\s+/g, " ")
      .split("\n");
    expect(command).toMatch(/^\$ npm run explain -- /);
    // WHEN it is run in the repository on the example (its copy in a scratch directory, synthesized there)
    const explain = run("sh", ["-c", command!.replace(/^\$ npm run /, "npm run -s ")], {
      cwd: ROOT,
      env: { ...process.env, GITLAB_OIDC_CONFIG: scratchExample },
      timeoutMs: 30_000,
    });
    // THEN it prints the doc's lines, and exits 3 (denied)
    expect(explain.stdout).toBe(output.join("\n"));
    expect(explain.status).toBe(3);
  });

  test("the script example prints only for a branch that may deploy to production", () => {
    // GIVEN the doc's script example
    const script = blockAfter(doc("docs/explain.md"), "In a script:", "sh");
    // WHEN it runs for a feature branch (staging's role of the same name allows it) and for main
    const forBranch = (branch: string) =>
      runOk("sh", ["-c", `BRANCH='${branch}'\n${script}`], {
        cwd: ROOT,
        env: { ...process.env, GITLAB_OIDC_CONFIG: scratchExample },
        timeoutMs: 30_000,
      }).stdout;
    // THEN only main can deploy
    expect(forBranch("feature/login")).toBe("");
    expect(forBranch("main")).toBe("this branch can deploy\n");
  });
});
