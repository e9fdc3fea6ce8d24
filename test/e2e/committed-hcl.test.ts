/**
 * The committed-HCL check of the pipeline (the committed-hcl-current job) compares only what the synth
 * writes: Terraform's working files in the stack directories (terraform init/plan, the plan jobs) are
 * ignored by .gitignore, and provider lock files, committed or not, are not the synth's business.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { addTerraformWorkingFiles } from "../support/configs";
import { synthesizedExample } from "../support/example";
import { parseCiYaml, repoRoot } from "../support/pipeline-repo";
import { run, runOk } from "../support/run";

const GIT = ["-c", "user.email=t@example.com", "-c", "user.name=t", "-c", "init.defaultBranch=main"];

/** The job's script after `npm run synth`: the comparison itself. */
function jobComparison(): string {
  const pipeline = parseCiYaml(readFileSync(join(repoRoot, ".gitlab-ci.yml"), "utf8")) as Record<
    string,
    { script: string[] }
  >;
  const [synth, ...rest] = pipeline["committed-hcl-current"]!.script;
  expect(synth).toBe("npm run synth");
  return rest.join("\n");
}

describe("the committed-hcl-current job's comparison, on a checkout with terraform/ committed", () => {
  let dir: string;
  const git = (...args: string[]) => runOk("git", [...GIT, ...args], { cwd: dir }).stdout;
  const compare = () => run("bash", ["-e", "-o", "pipefail", "-c", jobComparison()], { cwd: dir });
  const addTerraformFiles = () => addTerraformWorkingFiles(join(dir, "terraform", "stacks", "production"));

  beforeEach(async () => {
    // GIVEN a repository with the example's synth committed as terraform/, .gitignore, and node_modules
    // as a symlink
    dir = mkdtempSync(join(tmpdir(), "committed-hcl-"));
    cpSync((await synthesizedExample()).dir, join(dir, "terraform"), { recursive: true });
    cpSync(join(repoRoot, ".gitignore"), join(dir, ".gitignore"));
    git("init", "-q");
    git("add", "-A");
    git("commit", "-q", "-m", "synth");
    symlinkSync(repoRoot, join(dir, "node_modules"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test("passes after terraform init and plan in a stack directory (and ignores a node_modules symlink)", () => {
    // GIVEN Terraform's working files in the production stack, none of them committed
    addTerraformFiles();
    // WHEN the job compares THEN it passes
    const result = compare();
    expect(result.status === 0 ? "" : result.output).toBe("");
    expect(result.stdout).toContain("terraform/ is current with gitlab-oidc.yaml");
    // AND git sees nothing but the lock file, which is for the team to commit, never ignored
    expect(git("status", "--porcelain", "--untracked-files=all")).toBe(
      "?? terraform/stacks/production/.terraform.lock.hcl\n",
    );
  });

  test("passes with a committed lock file that terraform init -upgrade changed", () => {
    // GIVEN a committed lock file, then changed
    addTerraformFiles();
    git("add", "terraform/stacks/production/.terraform.lock.hcl");
    git("commit", "-q", "-m", "lock providers");
    writeFileSync(join(dir, "terraform/stacks/production/.terraform.lock.hcl"), "upgraded\n");
    // WHEN the job compares THEN it passes
    const result = compare();
    expect(result.status === 0 ? "" : result.output).toBe("");
  });

  test("still fails on a changed or uncommitted file the synth writes", () => {
    // GIVEN Terraform's files, and a stack file the synth writes that is not committed
    addTerraformFiles();
    git("rm", "-q", "--cached", "terraform/stacks/staging/cdk.tf");
    git("commit", "-q", "-m", "forget staging");
    // WHEN the job compares THEN it fails naming only that file
    const untracked = compare();
    expect(untracked.status).toBe(1);
    expect(untracked.stdout.trim()).toBe("terraform/stacks/staging/cdk.tf");
    expect(untracked.stderr).toMatch(/not committed/);
    // AND a change to a committed synth file fails too
    git("add", "terraform/stacks/staging/cdk.tf");
    git("commit", "-q", "-m", "staging back");
    writeFileSync(join(dir, "terraform/ACCESS.md"), "edited by hand\n");
    const changed = compare();
    expect(changed.status).toBe(1);
    expect(changed.output).toMatch(/terraform\/ACCESS\.md[\s\S]*run npm run synth and commit terraform\//);
  });
});
