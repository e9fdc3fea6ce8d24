/**
 * Breadth for src/pipeline/plan-summary.sh (the unit tests in test/e2e/pipeline-plan-summary.test.ts keep a
 * representative few of each): all 80 seeded random plans against GitLab's jq program, every awk on
 * this machine, and a real terraform plan.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runOk } from "../support/run";
import { AWKS, bothSummaries, fixture, summarise, summariseWithOnly } from "../support/plan-summary";
import { requireOnPath, TERRAFORM, testWithTool } from "../support/tools";

describe("plan-summary.sh (breadth)", () => {
  test("agrees with GitLab's jq program on 80 random plans with decoys, compact and indented", () => {
    // jq is the reference here (the script itself needs no jq); the installer provides it.
    requireOnPath("jq", "jq", "GitLab's documented jq program is this test's oracle");
    for (let seed = 1; seed <= 80; seed++) {
      // GIVEN a random plan-shaped document (seeded) WHEN summarised by the script and by jq
      const { ours, theirs } = bothSummaries(seed);
      // THEN the counts are the same
      expect({ seed, out: ours }).toEqual({ seed, out: theirs });
    }
  }, 60_000);

  test.each(AWKS)("needs only sh, sed and awk (%s): no jq, no node", (awk) => {
    // GIVEN a PATH with sh, sed and this awk only WHEN the mixed plan is summarised
    const { status, stdout, stderr } = summariseWithOnly(awk, fixture("mixed.json"));
    // THEN the counts are right
    expect(stderr).toBe("");
    expect(status).toBe(0);
    expect(JSON.parse(stdout)).toEqual({ create: 4, update: 1, delete: 3 });
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
      const tf = (...args: string[]) => runOk("terraform", args, { cwd: dir, env }).stdout;
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
