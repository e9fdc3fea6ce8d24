/**
 * The merge-request widget report: src/pipeline/plan-summary.sh turns `terraform show -json <plan>`
 * into {"create": n, "update": n, "delete": n}, counting a replace as one create and one delete.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { repoRoot } from "./support/pipeline-repo";
import { run, runOk } from "./support/run";
import { requireOnPath, TERRAFORM, testWithTool } from "./support/tools";

const script = join(repoRoot, "src", "pipeline", "plan-summary.sh");
const fixture = (name: string) => join(repoRoot, "test", "fixtures", "plan", name);

/** Runs the script as the plan job does (jq is required: scripts/ensure-test-tools.sh installs it). */
function summarise(args: string[], input?: string) {
  return run("sh", [script, ...args], { input, timeoutMs: 10_000 });
}

describe("plan-summary.sh", () => {
  beforeAll(() => requireOnPath("jq", "jq", "src/pipeline/plan-summary.sh runs jq"));

  test("counts creates, updates, deletes and both orders of replace; ignores no-op and read", () => {
    // GIVEN a plan with 2 creates, 1 update, 1 delete, a delete-then-create and a create-then-delete
    // replace, a no-op and a data source read
    // WHEN it is summarised from a file
    const { status, stdout } = summarise([fixture("mixed.json")]);
    // THEN each replace adds one create and one delete, and no-op/read count nowhere
    expect(status).toBe(0);
    expect(JSON.parse(stdout)).toEqual({ create: 4, update: 1, delete: 3 });
    // AND the output is the single compact line GitLab reads
    expect(stdout).toBe('{"create":4,"update":1,"delete":3}\n');
  });

  test("reads the plan from stdin, as the plan job pipes terraform show -json into it", () => {
    // GIVEN the same plan on stdin
    // WHEN it is summarised without a file argument
    const { status, stdout } = summarise([], readFileSync(fixture("mixed.json"), "utf8"));
    // THEN the counts are the same
    expect(status).toBe(0);
    expect(JSON.parse(stdout)).toEqual({ create: 4, update: 1, delete: 3 });
  });

  test.each([
    ["no-changes.json", "only no-op and read changes"],
    ["empty.json", "no resource_changes key at all (an empty configuration)"],
  ])("%s (%s) reports zero changes", (file) => {
    // GIVEN a plan without changes
    // WHEN it is summarised
    const { status, stdout } = summarise([fixture(file)]);
    // THEN every count is present and zero
    expect(status).toBe(0);
    expect(JSON.parse(stdout)).toEqual({ create: 0, update: 0, delete: 0 });
  });

  test("refuses input that is not a terraform plan instead of reporting zero changes", () => {
    // GIVEN JSON that is not terraform show -json output (an error message, a list)
    for (const input of ['{"error": "no plan"}', "[]"]) {
      // WHEN it is summarised
      const { status, stdout, stderr } = summarise([], input);
      // THEN it fails, so the plan job fails, and says why
      expect(status).not.toBe(0);
      expect(stdout).toBe("");
      expect(stderr).toMatch(/not the output of terraform show -json/);
    }
  });

  testWithTool(
    TERRAFORM,
    "agrees with a real terraform plan (terraform_data, no provider download)",
    () => {
      // GIVEN state with four terraform_data resources, then a configuration that keeps one, updates one,
      // forces a replace of one, removes one and adds one
      const dir = mkdtempSync(join(tmpdir(), "plan-summary-"));
      const env = {
        ...process.env,
        TF_CLI_CONFIG_FILE: "/dev/null",
        TF_IN_AUTOMATION: "1",
        CHECKPOINT_DISABLE: "1",
      };
      const tf = (...args: string[]) => runOk("terraform", args, { cwd: dir, env, timeoutMs: 50_000 }).stdout;
      try {
        writeFileSync(
          join(dir, "main.tf"),
          ["keep", "update", "gone"]
            .map((n) => `resource "terraform_data" "${n}" { input = "a" }\n`)
            .join("") + 'resource "terraform_data" "replace" { triggers_replace = "a" }\n',
        );
        tf("init", "-input=false");
        tf("apply", "-auto-approve", "-input=false");
        writeFileSync(
          join(dir, "main.tf"),
          'resource "terraform_data" "keep" { input = "a" }\n' +
            'resource "terraform_data" "update" { input = "b" }\n' +
            'resource "terraform_data" "new" { input = "a" }\n' +
            'resource "terraform_data" "replace" { triggers_replace = "b" }\n',
        );
        tf("plan", "-input=false", "-out=plan.tfplan");
        // WHEN the plan job's pipeline runs: terraform show -json | plan-summary.sh
        const json = tf("show", "-json", "plan.tfplan");
        const { status, stdout } = summarise([], json);
        // THEN terraform's own actions give 2 creates (new, replace), 1 update, 2 deletes (gone, replace)
        const actions = Object.fromEntries(
          (
            JSON.parse(json) as { resource_changes: { address: string; change: { actions: string[] } }[] }
          ).resource_changes.map((r) => [r.address, r.change.actions]),
        );
        expect(actions["terraform_data.replace"]).toEqual(["delete", "create"]);
        expect(status).toBe(0);
        expect(JSON.parse(stdout)).toEqual({ create: 2, update: 1, delete: 2 });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    60_000,
  );
});
