/**
 * The merge-request widget report: src/pipeline/plan-summary.sh turns `terraform show -json <plan>`
 * into {"create": n, "update": n, "delete": n}, counting a replace as one create and one delete.
 */
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { repoRoot } from "./support/pipeline-repo";
import { run, runOk } from "./support/run";
import { onPath, requireOnPath, TERRAFORM, testWithTool } from "./support/tools";

const script = join(repoRoot, "src", "pipeline", "plan-summary.sh");
const fixture = (name: string) => join(repoRoot, "test", "fixtures", "plan", name);

function summarise(args: string[], input?: string, env: NodeJS.ProcessEnv = process.env) {
  return run("sh", [script, ...args], { input, env, timeoutMs: 10_000 });
}

/** GitLab's documented jq program (doc/user/infrastructure/iac/mr_integration.md): the reference. */
const GITLAB_JQ =
  '([.resource_changes[]?.change.actions?]|flatten)|{"create":(map(select(.=="create"))|length),' +
  '"update":(map(select(.=="update"))|length),"delete":(map(select(.=="delete"))|length)}';

/**
 * A PATH holding only sh, sed and the given awk (no jq, no node): what the summary may use. `awk` is
 * a command line such as "mawk" or "busybox awk".
 */
function toolbox(awk: string): string {
  const dir = mkdtempSync(join(tmpdir(), "plan-summary-path-"));
  const which = (tool: string) => runOk("sh", ["-c", `command -v ${tool}`]).stdout.trim();
  symlinkSync(which("sh"), join(dir, "sh"));
  symlinkSync(which("sed"), join(dir, "sed"));
  writeFileSync(join(dir, "awk"), `#!${which("sh")}\nexec ${awk.replace(/^\S+/, which)} "$@"\n`, {
    mode: 0o755,
  });
  return dir;
}

/** A deterministic pseudo-random generator (mulberry32), so a failing case can be replayed by seed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ACTIONS = [
  ["create"],
  ["update"],
  ["delete"],
  ["no-op"],
  ["read"],
  ["delete", "create"],
  ["create", "delete"],
];
/** Strings that look like the counted path from inside a value: they must count nowhere. */
const DECOYS = ['"actions":["create"]', "\\", '\\"', "update", "\u0022delete\u0022", "é ü", ":[{"];

/** A plan-shaped document with decoys: actions keys outside resource_changes[].change, escapes. */
function randomPlan(next: () => number): unknown {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!;
  const value = (depth: number): unknown => {
    const r = next();
    if (depth > 2 || r < 0.3) return pick([pick(DECOYS), 42, null, true, -1.5e3]);
    if (r < 0.6) return { actions: pick(ACTIONS), [pick(DECOYS)]: value(depth + 1) };
    return [value(depth + 1), pick(DECOYS)];
  };
  const change = () => ({
    address: `aws_iam_role.${pick(DECOYS)}`,
    change: { before: value(0), actions: pick(ACTIONS), after: value(0) },
  });
  const n = Math.floor(next() * 6);
  return {
    format_version: "1.2",
    ...(next() < 0.5 ? { resource_drift: [change(), change()] } : {}),
    ...(next() < 0.9 ? { resource_changes: Array.from({ length: n }, change) } : {}),
    output_changes: { role_arns: { actions: pick(ACTIONS) } },
    configuration: { actions: pick(ACTIONS), nested: value(0) },
  };
}

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

  test("agrees with GitLab's jq program on 80 random plans with decoys, compact and indented", () => {
    // jq is the reference here (the script itself needs no jq); the installer provides it.
    requireOnPath("jq", "jq", "GitLab's documented jq program is this test's oracle");
    for (let seed = 1; seed <= 80; seed++) {
      // GIVEN a random plan-shaped document (seeded), with "actions" outside the counted path and
      // escaped quotes and backslashes inside strings
      const plan = randomPlan(random(seed));
      const text = JSON.stringify(plan, null, seed % 2 ? 0 : 2);
      // WHEN it is summarised, and GitLab's jq program reads it
      const ours = summarise([], text);
      const theirs = runOk("jq", ["-c", GITLAB_JQ], { input: text }).stdout;
      // THEN the counts are the same
      expect({ seed, out: ours.stdout }).toEqual({ seed, out: theirs });
    }
  }, 60_000);

  test.each(["mawk", "busybox awk", "gawk"].filter((awk) => onPath(awk.split(" ")[0])))(
    "an exclusive resource losing policies counts as one delete per policy, never as an update (%s)",
    (awk) => {
      // GIVEN a plan whose exclusive attachments lose one ARN and whose exclusive inline policies lose one
      // name (what adopting a role with a short list does), one that only gains a name, and a role update
      const path = toolbox(awk);
      try {
        // WHEN it is summarised
        const { status, stdout } = summarise([fixture("exclusive-removal.json")], undefined, { PATH: path });
        // THEN the two removals are deletes; the gain and the role stay updates
        expect(status).toBe(0);
        expect(JSON.parse(stdout)).toEqual({ create: 0, update: 2, delete: 2 });
      } finally {
        rmSync(path, { recursive: true, force: true });
      }
    },
  );

  test.each(["mawk", "busybox awk", "gawk"].filter((awk) => onPath(awk.split(" ")[0])))(
    "needs only sh, sed and awk (%s): no jq, no node",
    (awk) => {
      // GIVEN a PATH with sh, sed and this awk only
      const path = toolbox(awk);
      try {
        // WHEN the mixed plan is summarised
        const { status, stdout, stderr } = summarise([fixture("mixed.json")], undefined, { PATH: path });
        // THEN the counts are right
        expect(stderr).toBe("");
        expect(status).toBe(0);
        expect(JSON.parse(stdout)).toEqual({ create: 4, update: 1, delete: 3 });
      } finally {
        rmSync(path, { recursive: true, force: true });
      }
    },
  );

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
