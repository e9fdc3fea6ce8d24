/**
 * `npm run audit`: roles read from what the AWS CLI prints, GitLab roles found and others skipped, every
 * finding code produced by a fixture and withheld from a near miss, the JSON contract, exit codes and
 * malformed input. Fixtures: test/fixtures/audit/README.md.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { auditJson, auditText, type AuditResult } from "../src/audit/audit";
import { runCli, EXIT_FINDINGS, EXIT_OK, EXIT_USAGE } from "../src/audit/cli";
import { FINDING_SEVERITIES, type FindingCode } from "../src/audit/findings";
import { evaluateCondition } from "../src/iam/evaluate";

const FIXTURES = join(__dirname, "fixtures", "audit");
const fixture = (file: string) => join(FIXTURES, file);

function audit(file: string, issuers: string[] = []): AuditResult {
  return auditText(readFileSync(fixture(file), "utf8"), file, { issuers });
}

function codesOf(file: string, role: string, issuers: string[] = []): string[] {
  const found = audit(file, issuers).roles.find((r) => r.role.name === role);
  if (!found) throw new Error(`${file} has no GitLab role ${role}`);
  return found.findings.map((f) => f.code);
}

function cli(args: string[]) {
  let stdout = "";
  let stderr = "";
  const code = runCli(args, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
  return { code, stdout, stderr };
}

const ACCOUNT = "account-authorization-details.json";

/** code → [file, role that must produce it], [file, role that must not]. */
const CASES: Record<FindingCode, { produces: [string, string]; not: [string, string] }> = {
  "aud-only": { produces: [ACCOUNT, "gitlab_action_oidc_aws"], not: [ACCOUNT, "gitlab-tutorial-main"] },
  "any-project": { produces: [ACCOUNT, "gitlab-any-project"], not: [ACCOUNT, "gitlab-group-deploy"] },
  "namespace-escape": { produces: [ACCOUNT, "gitlab-prefix"], not: [ACCOUNT, "gitlab-group-deploy"] },
  "principal-wildcard": {
    produces: ["principal-wildcard.json", "principal-wildcard"],
    not: [ACCOUNT, "gitlab-pinned-deploy"],
  },
  "wildcard-under-string-equals": {
    produces: [ACCOUNT, "gitlab-equals-wildcard"],
    not: [ACCOUNT, "gitlab-any-branch"],
  },
  "exact-and-wildcard-anded": { produces: [ACCOUNT, "gitlab-anded"], not: [ACCOUNT, "gitlab-group-deploy"] },
  "unsupported-claim": {
    produces: ["get-role-unsupported-claim.json", "deploy-by-project-path"],
    not: [ACCOUNT, "gitlab-pinned-deploy"],
  },
  "for-all-values-single-valued": {
    produces: [ACCOUNT, "gitlab-forallvalues"],
    not: [ACCOUNT, "gitlab-any-branch"],
  },
  "policy-variable": {
    produces: ["policy-variable.json", "policy-variable"],
    not: [ACCOUNT, "gitlab-pinned-deploy"],
  },
  "not-evaluated": { produces: ["policy-variable.json", "policy-variable"], not: [ACCOUNT, "gitlab-prefix"] },
  "no-id-pinning": { produces: [ACCOUNT, "gitlab-tutorial-main"], not: [ACCOUNT, "gitlab-pinned-deploy"] },
  "unprotected-refs": {
    produces: [ACCOUNT, "gitlab-tutorial-main"],
    not: ["group-anyref-protected-pinned.json", "group-anyref-protected-pinned"],
  },
  "any-ref": { produces: [ACCOUNT, "gitlab-any-branch"], not: [ACCOUNT, "gitlab-tutorial-main"] },
  "missing-aud": { produces: [ACCOUNT, "gitlab-tutorial-main"], not: [ACCOUNT, "gitlab-any-branch"] },
  "if-exists-condition": { produces: ["if-exists.json", "if-exists"], not: [ACCOUNT, "gitlab-any-branch"] },
  "negated-condition": {
    produces: ["string-not-like.json", "string-not-like"],
    not: [ACCOUNT, "gitlab-any-branch"],
  },
};

describe("finding codes", () => {
  test.each(Object.keys(FINDING_SEVERITIES) as FindingCode[])(
    "%s: a fixture produces it, a near miss does not",
    (code) => {
      // GIVEN the fixture written to produce the code and a near miss
      const { produces, not } = CASES[code];
      // WHEN both are audited
      // THEN only the first has the code
      expect(codesOf(...produces)).toContain(code);
      expect(codesOf(...not)).not.toContain(code);
    },
  );

  test("the issue's codes keep their contracted severities", () => {
    expect(FINDING_SEVERITIES).toMatchObject({
      "aud-only": "critical",
      "any-project": "critical",
      "namespace-escape": "critical",
      "wildcard-under-string-equals": "error",
      "exact-and-wildcard-anded": "error",
      "unsupported-claim": "error",
      "no-id-pinning": "warning",
      "unprotected-refs": "warning",
      "any-ref": "warning",
    });
  });

  test("docs/adopting.md lists every code with its severity", () => {
    const docs = readFileSync(join(__dirname, "..", "docs", "adopting.md"), "utf8");
    for (const [code, severity] of Object.entries(FINDING_SEVERITIES)) {
      expect(docs).toMatch(new RegExp(`\\| \`${code}\`\\s*\\| ${severity}\\s*\\|`));
    }
  });

  test("a careful gitlab.com role (aud, exact sub, ref_protected, project_id) has no findings", () => {
    expect(codesOf(ACCOUNT, "gitlab-pinned-deploy")).toEqual([]);
  });

  test("self-managed: a project_id-first sub and a plain aud+sub trust have no findings; no gitlab.com-only warnings", () => {
    expect(codesOf("get-role-project-id-sub.json", "deploy-by-id")).toEqual([]);
    expect(codesOf("get-role-self-managed-ok.json", "deploy-api")).toEqual([]);
    // GitLab's own tutorial (StringEquals on gitlab.example.com:sub, no aud)
    expect(codesOf("get-role-gitlab-tutorial.json", "gitlab-tutorial")).toEqual(["missing-aud"]);
  });

  test("the namespace escape is decided by a token the pattern lets in, named in the message", () => {
    const prefix = audit(ACCOUNT).roles.find((r) => r.role.name === "gitlab-prefix")!;
    expect(prefix.findings[0]).toMatchObject({ code: "namespace-escape", severity: "critical" });
    expect(prefix.findings[0].message).toContain("acme-audit-escape/project");
  });

  test("a StringNotLike-only sub lets in any project", () => {
    expect(codesOf("string-not-like.json", "string-not-like")).toContain("any-project");
  });

  test("ForAllValues: on a key AWS never supplies restricts nothing: the outsider gets in (aud-only)", () => {
    // GIVEN a self-managed trust whose only restriction is ForAllValues: on a claim AWS does not supply
    const policy = {
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Principal: { Federated: "arn:aws:iam::111111111111:oidc-provider/gitlab.example.com" },
          Action: "sts:AssumeRoleWithWebIdentity",
          Condition: {
            StringEquals: { "gitlab.example.com:aud": "https://gitlab.example.com" },
            "ForAllValues:StringEquals": { "gitlab.example.com:project_path": "acme/web" },
          },
        },
      ],
    };
    // WHEN audited with the issuer named
    const result = auditText(JSON.stringify(policy), "forallvalues.json", {
      issuers: ["https://gitlab.example.com"],
    });
    // THEN the missing key passes the condition, so any project gets in
    const codes = result.roles[0].findings.map((f) => f.code);
    expect(codes).toEqual(expect.arrayContaining(["aud-only", "for-all-values-single-valued"]));
    expect(codes).not.toContain("unsupported-claim");
  });

  test("evaluator: ForAllValues passes and ForAnyValue fails on a missing key; both act as the operator on a present one; Null", () => {
    const present = { "gitlab.com:sub": "project_path:acme/web:ref_type:branch:ref:main" };
    expect(evaluateCondition("ForAllValues:StringEquals", "gitlab.com:x", ["a"], {}).matched).toBe(true);
    expect(evaluateCondition("ForAnyValue:StringEquals", "gitlab.com:x", ["a"], {}).matched).toBe(false);
    expect(
      evaluateCondition("ForAllValues:StringLike", "gitlab.com:sub", ["project_path:acme/*"], present)
        .matched,
    ).toBe(true);
    expect(
      evaluateCondition("ForAnyValue:StringLike", "gitlab.com:sub", ["project_path:other/*"], present)
        .matched,
    ).toBe(false);
    expect(evaluateCondition("Null", "gitlab.com:x", ["true"], {}).matched).toBe(true);
    expect(evaluateCondition("Null", "gitlab.com:sub", ["true"], present).matched).toBe(false);
  });

  test("NotAction is reported as not evaluated instead of guessed", () => {
    const policy = {
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Principal: { Federated: "arn:aws:iam::111111111111:oidc-provider/gitlab.com" },
          NotAction: "sts:AssumeRole",
          Condition: { StringEquals: { "gitlab.com:aud": "https://gitlab.com" } },
        },
      ],
    };
    const result = auditText(JSON.stringify(policy), "not-action.json");
    expect(result.roles[0].findings.map((f) => f.code)).toContain("not-evaluated");
  });
});

describe("reading what the AWS CLI prints", () => {
  test("get-account-authorization-details: GitLab roles audited, EC2 and GitHub Actions roles skipped", () => {
    const result = audit(ACCOUNT);
    expect(result.skipped).toEqual(["ec2-instance-role", "github-actions-deploy"]);
    expect(result.roles.map((r) => r.role.name)).toContain("gitlab-group-deploy");
  });

  test("URL-encoded trust policies (RoleDetailList and get-role) read like JSON ones", () => {
    const encoded = audit("url-encoded-get-role.json").roles[0];
    expect(encoded.trust.issuerHost).toBe("gitlab.com");
    const group = audit(ACCOUNT).roles.find((r) => r.role.name === "gitlab-group-deploy")!;
    expect(group.role.trustPolicy.statements).toHaveLength(2);
    expect(group.role.managedPolicyArns).toEqual(["arn:aws:iam::aws:policy/ReadOnlyAccess"]);
  });

  test("an aud-only self-managed trust is found only when its issuer is named with --issuer", () => {
    expect(audit("opszero-aud-only-self-managed.json").roles).toEqual([]);
    const named = audit("opszero-aud-only-self-managed.json", ["https://gitlab.example.com"]);
    expect(named.roles[0].findings.map((f) => f.code)).toContain("aud-only");
  });

  test.each([
    ["malformed/not-json.txt", /not JSON \(line 1, column \d+/],
    ["malformed/no-trust-policy.json", /RoleDetailList\[0\] \(no-trust\) has no AssumeRolePolicyDocument/],
    ["malformed/unknown-shape.json", /found none of RoleDetailList.*top-level keys: Users/],
    ["malformed/bad-encoded.json", /Role \(bad\)\.AssumeRolePolicyDocument is not JSON/],
  ])("%s: exit 2, the file and what is wrong, no stack trace", (file, message) => {
    const { code, stderr, stdout } = cli([fixture(file)]);
    expect(code).toBe(EXIT_USAGE);
    expect(stdout).toBe("");
    expect(stderr).toContain(fixture(file));
    expect(stderr).toMatch(message);
    expect(stderr).not.toMatch(/\n\s+at /);
  });
});

describe("output and exit codes", () => {
  test("--json prints exactly { roles: [ { name, arn, findings: [ { code, severity, message } ] } ] }", () => {
    const { code, stdout } = cli([fixture(ACCOUNT), "--json"]);
    expect(code).toBe(EXIT_FINDINGS);
    const parsed = JSON.parse(stdout) as { roles: Record<string, unknown>[] };
    expect(Object.keys(parsed)).toEqual(["roles"]);
    for (const role of parsed.roles) {
      expect(Object.keys(role)).toEqual(["name", "arn", "findings"]);
      for (const f of role.findings as Record<string, unknown>[])
        expect(Object.keys(f)).toEqual(["code", "severity", "message"]);
    }
    expect(parsed.roles.find((r) => r.name === "gitlab_action_oidc_aws")).toMatchObject({
      arn: "arn:aws:iam::111111111111:role/gitlab_action_oidc_aws",
      findings: expect.arrayContaining([expect.objectContaining({ code: "aud-only", severity: "critical" })]),
    });
    expect(auditJson(audit(ACCOUNT))).toBe(stdout);
  });

  test("text: a linter-style line per finding and a summary; exit 0 without critical findings", () => {
    const { code, stdout } = cli([fixture("get-role-gitlab-tutorial.json")]);
    expect(code).toBe(EXIT_OK);
    expect(stdout).toMatch(/gitlab-tutorial \(arn:aws:iam::222222222222:role\/gitlab-tutorial\)/);
    expect(stdout).toMatch(/warning\s+missing-aud\s+statement 1: /);
    expect(stdout).toContain("1 GitLab role: 1 finding (0 critical, 0 errors, 1 warning)");
  });

  test("usage errors exit 2 with the usage", () => {
    expect(cli([]).code).toBe(EXIT_USAGE);
    expect(cli([fixture(ACCOUNT), "--json", "--to-config"]).code).toBe(EXIT_USAGE);
    expect(cli([fixture("missing.json")])).toMatchObject({
      code: EXIT_USAGE,
      stderr: expect.stringContaining("file not found"),
    });
    expect(cli(["--help"])).toMatchObject({ code: EXIT_OK, stdout: expect.stringContaining("Exit codes") });
  });
});
