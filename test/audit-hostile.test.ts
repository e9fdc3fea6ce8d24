/**
 * The audit reads hostile AWS CLI output safely: operators, condition keys, principal types, Sids and tags
 * named `__proto__`, `constructor`, `toString` or `hasOwnProperty` are entries like any other. They never
 * reach Object.prototype, an unknown operator is a finding (not a crash), and nothing one role contains
 * changes another role's findings or the exit code.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { auditText, toConfig } from "../src/audit/audit";
import { runCli, EXIT_FINDINGS } from "../src/audit/cli";

const FIXTURES = join(__dirname, "fixtures", "audit");
const HOSTILE = join(FIXTURES, "hostile-keys.json");
const VICTIM_ALONE = join(FIXTURES, "hostile-keys-victim-alone.json");
const VICTIM = "victim-namespace-escape";

function cli(args: string[]) {
  let stdout = "";
  const code = runCli(args, { stdout: (t) => (stdout += t), stderr: (t) => (stdout += t) });
  return { code, stdout };
}

const PROTOTYPE_MEMBERS = ["project_path", "ref", "project_id", "0", "gitlab.com:sub", "gitlab.com:aud", "x"];

afterEach(() => {
  // Whatever a test did, Object.prototype must be as it was (a leak would poison later tests too).
  for (const member of PROTOTYPE_MEMBERS) delete (Object.prototype as Record<string, unknown>)[member];
});

describe("hostile keys in the audit's input", () => {
  test("an operator named __proto__ (and constructor, toString, hasOwnProperty) leaves Object.prototype untouched", () => {
    // GIVEN a file whose first role's Condition has an operator "__proto__" with key project_path
    const text = readFileSync(HOSTILE, "utf8");
    // WHEN it is audited
    auditText(text, HOSTILE);
    // THEN no member appeared on Object.prototype
    const leaked = PROTOTYPE_MEMBERS.filter((member) => member in {});
    expect(leaked).toEqual([]);
  });

  test("another role's findings and the exit code are the same as when that role is audited alone", () => {
    // GIVEN the victim role (a critical namespace escape), audited alone
    const alone = auditText(readFileSync(VICTIM_ALONE, "utf8"), VICTIM_ALONE).roles.find(
      (r) => r.role.name === VICTIM,
    )!;
    expect(alone.findings.map((f) => f.code)).toContain("namespace-escape");
    // WHEN it is audited after the hostile roles
    const beside = auditText(readFileSync(HOSTILE, "utf8"), HOSTILE).roles.find(
      (r) => r.role.name === VICTIM,
    )!;
    // THEN its findings are identical, and the CLI still exits 1 for the critical finding
    expect(beside.findings).toEqual(alone.findings);
    expect(cli([HOSTILE]).code).toBe(EXIT_FINDINGS);
  });

  test("unknown operators are findings naming the operator, not crashes", () => {
    const result = auditText(readFileSync(HOSTILE, "utf8"), HOSTILE);
    for (const name of ["polluter-proto-operator", "polluter-constructor-operators"]) {
      const role = result.roles.find((r) => r.role.name === name)!;
      const notEvaluated = role.findings.filter((f) => f.code === "not-evaluated");
      expect(notEvaluated).toHaveLength(1);
      expect(notEvaluated[0].message).toMatch(/unsupported condition operator (__proto__|constructor)/);
    }
  });

  test("the hostile names reach the findings as the input spells them (keys of the condition, principal types)", () => {
    const result = auditText(readFileSync(HOSTILE, "utf8"), HOSTILE);
    const role = result.roles.find((r) => r.role.name === "polluter-keys")!;
    const messages = role.findings.map((f) => f.message).join("\n");
    // Keys without an issuer are ignored by the shape checks; the issuer's own "__proto__" claim is not supplied.
    expect(messages).toMatch(/gitlab\.com:__proto__/);
    expect(messages).toMatch(/gitlab\.com:constructor/);
  });

  test("--to-config refuses the hostile roles with a reason and still converts nothing it cannot hold to the original", () => {
    const result = auditText(readFileSync(HOSTILE, "utf8"), HOSTILE);
    const output = toConfig(result, HOSTILE);
    const refused = output.refused.map((r) => r.name).sort();
    expect(refused).toEqual(
      ["polluter-constructor-operators", "polluter-keys", "polluter-proto-operator", VICTIM].sort(),
    );
    expect(PROTOTYPE_MEMBERS.filter((member) => member in {})).toEqual([]);
  });
});
