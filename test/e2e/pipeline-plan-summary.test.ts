/**
 * The merge-request widget report: src/pipeline/plan-summary.sh turns `terraform show -json <plan>`
 * into {"create": n, "update": n, "delete": n}, counting a replace as one create and one delete.
 * Recorded plans, a few seeded random plans against GitLab's jq program, and one awk here; all 80 random
 * plans, every awk and a real terraform plan in test/slow/plan-summary-sweep.test.ts.
 */
import { readFileSync } from "node:fs";
import { AWKS, bothSummaries, fixture, summarise, summariseWithOnly } from "../support/plan-summary";
import { requireOnPath } from "../support/tools";

/** The seeds the unit tier checks: compact (odd) and indented (even) documents, decoys in each. */
const REPRESENTATIVE_SEEDS = [1, 2, 3, 4];

describe("plan-summary.sh", () => {
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
    for (const input of ['{"error": "no plan"}', "[]", '"text"', '{"format_version": "1.2"', ""]) {
      // WHEN it is summarised
      const { status, stdout, stderr } = summarise([], input);
      // THEN it fails, so the plan job fails, and says why
      expect(status).not.toBe(0);
      expect(stdout).toBe("");
      expect(stderr).toMatch(/not the output of terraform show -json/);
    }
  });

  test("agrees with GitLab's jq program on a few seeded random plans with decoys, compact and indented", () => {
    // jq is the reference here (the script itself needs no jq); the installer provides it.
    requireOnPath("jq", "jq", "GitLab's documented jq program is this test's oracle");
    for (const seed of REPRESENTATIVE_SEEDS) {
      // GIVEN a random plan-shaped document (seeded), with "actions" outside the counted path and
      // escaped quotes and backslashes inside strings
      // WHEN it is summarised, and GitLab's jq program reads it
      const { ours, theirs } = bothSummaries(seed);
      // THEN the counts are the same
      expect({ seed, out: ours }).toEqual({ seed, out: theirs });
    }
  });

  test.each(AWKS.slice(0, 1))("needs only sh, sed and awk (%s): no jq, no node", (awk) => {
    // GIVEN a PATH with sh, sed and this awk only WHEN the mixed plan is summarised
    const { status, stdout, stderr } = summariseWithOnly(awk, fixture("mixed.json"));
    // THEN the counts are right
    expect(stderr).toBe("");
    expect(status).toBe(0);
    expect(JSON.parse(stdout)).toEqual({ create: 4, update: 1, delete: 3 });
  });

  test.each(AWKS)(
    "an exclusive resource losing policies counts as one delete per policy, never as an update (%s)",
    (awk) => {
      // GIVEN a plan whose exclusive attachments lose one ARN and whose exclusive inline policies lose one
      // name (what adopting a role with a short list does), one that only gains a name, and a role update
      // WHEN it is summarised
      const { status, stdout, stderr } = summariseWithOnly(awk, fixture("exclusive-removal.json"));
      // THEN the two removals are deletes; the gain and the role stay updates
      expect(stderr).toBe("");
      expect(status).toBe(0);
      expect(JSON.parse(stdout)).toEqual({ create: 0, update: 2, delete: 2 });
    },
  );
});
