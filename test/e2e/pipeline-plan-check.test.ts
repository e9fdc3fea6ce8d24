/**
 * src/pipeline/plan-check.sh (the facts the deploy decides on, from `terraform show -json`) and
 * src/pipeline/deletions-check.sh (deletions of access resources need a committed acknowledgement),
 * as units, on plan JSON shaped like Terraform 1.11's; one case with real terraform (-target).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { repoRoot } from "../support/pipeline-repo";
import { run } from "../support/run";
import { TERRAFORM, testWithTool } from "../support/tools";

const planCheck = join(repoRoot, "src", "pipeline", "plan-check.sh");
const deletionsCheck = join(repoRoot, "src", "pipeline", "deletions-check.sh");

function change(address: string, type: string, actions: string[], after: unknown = null) {
  return {
    address,
    mode: "managed",
    type,
    name: address.split(".")[1],
    change: { actions, before: null, after },
  };
}
function plan(changes: unknown[], extra: Record<string, unknown> = {}) {
  return JSON.stringify({
    format_version: "1.2",
    terraform_version: "1.11.4",
    planned_values: { root_module: { resources: [{ values: { tags: { resource_changes: ["x"] } } }] } },
    resource_changes: changes,
    configuration: {},
    timestamp: "2026-12-03T21:00:00Z",
    applyable: true,
    complete: true,
    errored: false,
    ...extra,
  });
}
const check = (json: string) => run("sh", [planCheck], { input: json });

describe("plan-check.sh", () => {
  test("prints complete, errored, the deletions and the digest of resource_changes as written", () => {
    const changes = [
      change("aws_iam_role.old", "aws_iam_role", ["delete"]),
      change("aws_iam_role.new", "aws_iam_role", ["create"], { name: 'a "quoted" \\ name' }),
      change("terraform_data.x", "terraform_data", ["delete", "create"]),
    ];
    const result = check(plan(changes));
    expect(result.stderr).toBe("");
    const digest = createHash("sha256").update(JSON.stringify(changes)).digest("hex");
    expect(result.stdout).toBe(
      [
        "delete aws_iam_role aws_iam_role.old",
        "delete terraform_data terraform_data.x",
        "complete true",
        "errored false",
        `digest ${digest}`,
        "",
      ].join("\n"),
    );
  });

  test("the digest ignores when the plan was made, and changes with any value in the changes", () => {
    const digest = (json: string) => /digest (\w+)/.exec(check(json).stdout)?.[1];
    const changes = [change("aws_iam_role.a", "aws_iam_role", ["update"], { policy: '{"a":"b\\"c"}' })];
    expect(digest(plan(changes))).toBe(digest(plan(changes, { timestamp: "2027-01-01T00:00:00Z" })));
    const other = [change("aws_iam_role.a", "aws_iam_role", ["update"], { policy: '{"a":"b\\\\c"}' })];
    expect(digest(plan(changes))).not.toBe(digest(plan(other)));
  });

  test("an incomplete or errored plan says so; text that is no plan fails", () => {
    expect(check(plan([], { complete: false })).stdout).toContain("complete false\n");
    expect(check(plan([], { errored: true })).stdout).toContain("errored true\n");
    expect(check(plan([], { complete: undefined })).stdout).toContain("complete missing\n");
    const broken = check('{"format_version": "1.2", "resource_changes": [}');
    expect(broken.status).toBe(1);
    expect(broken.stderr).toContain("not the output of terraform show -json");
  });

  testWithTool(TERRAFORM, "a real plan made with -target is incomplete (Terraform 1.11)", () => {
    const dir = mkdtempSync(join(tmpdir(), "plan-check-"));
    try {
      writeFileSync(
        join(dir, "main.tf"),
        'resource "terraform_data" "a" {\n  input = "a"\n}\nresource "terraform_data" "b" {\n  input = "b"\n}\n',
      );
      const env = { PATH: process.env.PATH, HOME: dir, TF_IN_AUTOMATION: "1" };
      expect(run("terraform", ["init", "-input=false"], { cwd: dir, env }).status).toBe(0);
      expect(run("terraform", ["plan", "-target=terraform_data.a", "-out=p"], { cwd: dir, env }).status).toBe(
        0,
      );
      const json = run("terraform", ["show", "-json", "p"], { cwd: dir, env }).stdout;
      expect(check(json).stdout).toContain("complete false\n");
      expect(run("terraform", ["plan", "-out=q"], { cwd: dir, env }).status).toBe(0);
      expect(check(run("terraform", ["show", "-json", "q"], { cwd: dir, env }).stdout).stdout).toContain(
        "complete true\n",
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("deletions-check.sh", () => {
  const facts = [
    "delete aws_iam_role aws_iam_role.old",
    "delete aws_iam_role_policy_attachment aws_iam_role_policy_attachment.old",
    "delete terraform_data terraform_data.x",
    "complete true",
  ].join("\n");
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), "deletions-"))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("deleting a role or an attachment without a committed acknowledgement is refused, naming each", () => {
    const result = run("sh", [deletionsCheck, "prod", join(dir, "none.txt")], { input: facts });
    expect(result.status).toBe(1);
    expect(result.stdout).toContain("deletes aws_iam_role.old: NOT acknowledged");
    expect(result.stderr).toContain(
      "no one acknowledged: aws_iam_role.old aws_iam_role_policy_attachment.old.",
    );
    expect(result.output).not.toContain("terraform_data.x");
  });

  test("acknowledged for this stack, they pass; another stack's acknowledgement does not count", () => {
    writeFileSync(
      join(dir, "acks.txt"),
      "# stack address\nprod aws_iam_role.old\nstaging aws_iam_role_policy_attachment.old\n",
    );
    const partly = run("sh", [deletionsCheck, "prod", join(dir, "acks.txt")], { input: facts });
    expect(partly.status).toBe(1);
    expect(partly.stdout).toContain("deletes aws_iam_role.old (acknowledged");
    writeFileSync(join(dir, "acks.txt"), "prod aws_iam_role.old\nprod aws_iam_role_policy_attachment.old\n");
    expect(run("sh", [deletionsCheck, "prod", join(dir, "acks.txt")], { input: facts }).status).toBe(0);
  });
});

describe("reviewed-plan-check.sh", () => {
  const reviewedPlanCheck = join(repoRoot, "src", "pipeline", "reviewed-plan-check.sh");
  const reviewed = "a".repeat(64);
  const other = "b".repeat(64);
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), "reviewed-"))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const check = (file: string, digest: string) => {
    writeFileSync(join(dir, "reviewed-plans.txt"), file);
    return run("sh", [reviewedPlanCheck, "prod", join(dir, "reviewed-plans.txt"), digest]);
  };

  test("warn (the default): a diverged plan is reported and the deploy goes on; an equal one says so", () => {
    // GIVEN prod's reviewed digest recorded, and staging's
    const file = `# stack digest\nstaging ${other}\nprod ${reviewed}\n`;
    // WHEN the plan about to be applied differs THEN the divergence is printed with both digests
    const diverged = check(file, other);
    expect(diverged.status).toBe(0);
    expect(diverged.stdout).toContain(`WARNING: reviewed plan: the plan (${other}) DIVERGED`);
    expect(diverged.stdout).toContain(`(${reviewed}); mode warn`);
    // AND an equal plan is reported as the reviewed one
    const equal = check(file, reviewed);
    expect(equal.status).toBe(0);
    expect(equal.stdout).toContain("the plan equals the one recorded as reviewed");
    // AND a stack without a line is not compared, and says so
    expect(check(`staging ${other}\n`, reviewed).stdout).toContain(
      "records no digest for prod: not compared",
    );
  });

  test("fail: a diverged plan, or a stack with no reviewed digest, stops the deploy", () => {
    const diverged = check(`mode fail\nprod ${reviewed}\n`, other);
    expect(diverged.status).toBe(1);
    expect(diverged.stderr).toContain("DIVERGED from the one recorded as reviewed");
    expect(check(`mode fail\nprod ${reviewed}\n`, reviewed).status).toBe(0);
    const missing = check("mode fail\n", reviewed);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain("records no digest for prod, and its mode is fail");
  });

  test("a malformed line is refused with its line number; a glob in it is not expanded", () => {
    for (const [file, line] of [
      ["prod abc\n", 1],
      [`# x\nprod ${reviewed} extra\n`, 2],
      ["mode strict\n", 1],
      ["prod *\n", 1],
    ] as const) {
      const result = check(file, reviewed);
      expect(result.status).toBe(1);
      expect(result.stderr).toContain(`reviewed-plans.txt:${line}: write`);
    }
  });
});
