/**
 * `--to-config` never prints what it cannot stand behind:
 * - the token-by-token self-check refuses a conversion that would change who gets in. Shapes: a wrong
 *   reading of `sub` is injected (a project read as its group, a branch as every ref, as a tag, as
 *   another project, a branch dropped), and the refusal, naming a token, is asserted;
 * - the output is data: values from the input (in comments too) cannot become YAML, and the printed text
 *   is parsed back and compared with the configs meant before anything is printed.
 */
import { parseAllDocuments } from "yaml";
import { auditText, checkReadsBack, commentText, OutputMismatchError, toConfig } from "../src/audit/audit";
import { runCli, EXIT_FINDINGS } from "../src/audit/cli";
import { convertRole, grantForSubject, type GrantOut } from "../src/audit/to-config";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const PROVIDER = "arn:aws:iam::111111111111:oidc-provider/gitlab.com";

function trust(sub: string | string[], extra: Record<string, unknown> = {}) {
  return JSON.stringify({
    Role: {
      RoleName: "deploy",
      Arn: "arn:aws:iam::111111111111:role/deploy",
      AssumeRolePolicyDocument: {
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Principal: { Federated: PROVIDER },
            Action: "sts:AssumeRoleWithWebIdentity",
            Condition: {
              StringEquals: { "gitlab.com:aud": "https://gitlab.com", ...extra },
              StringLike: { "gitlab.com:sub": sub },
            },
          },
        ],
      },
    },
  });
}

function convertWith(text: string, readSubject?: (value: string) => GrantOut) {
  const [audited] = auditText(text, "role.json").roles;
  return convertRole(audited.role, audited.trust, readSubject ? { readSubject } : {});
}

const MAIN = "project_path:acme/web:ref_type:branch:ref:main";

describe("the self-check refuses a conversion that would change who gets in", () => {
  test("the faithful reading converts (the control)", () => {
    expect(convertWith(trust(MAIN)).ok).toBe(true);
  });

  test.each<[string, string | string[], (value: string) => GrantOut, RegExp]>([
    [
      "a project read as its group (lets in sibling projects)",
      MAIN,
      () => ({ group: "acme", branches: ["main"] }),
      /denied by the policy but allowed by the config/,
    ],
    [
      "a branch read as every ref (lets in unprotected branches and tags)",
      MAIN,
      () => ({ project: "acme/web", anyRef: true }),
      /denied by the policy but allowed by the config/,
    ],
    [
      "a branch read as a tag of the same name",
      MAIN,
      () => ({ project: "acme/web", tags: ["main"] }),
      /allowed by the policy but not by the config|denied by the policy but allowed by the config/,
    ],
    [
      "a project read as another project",
      MAIN,
      () => ({ project: "acme/api", branches: ["main"] }),
      /allowed by the policy but not by the config|denied by the policy but allowed by the config/,
    ],
    [
      "one of two branches dropped (shuts out jobs that get in today)",
      [MAIN, "project_path:acme/web:ref_type:branch:ref:release/*"],
      (value) => ({ ...grantForSubject(value), branches: ["main"] }),
      /sub "project_path:acme\/web:ref_type:branch:ref:release\/\S*" .* allowed by the policy but not by the config/,
    ],
  ])("%s", (_shape, sub, wrongReading, message) => {
    // GIVEN a trust policy and a wrong reading of its sub values
    // WHEN it is converted
    const conversion = convertWith(trust(sub), (value) => ({ ...wrongReading(value), protected: false }));
    // THEN the self-check refuses it, naming a token on which the two disagree
    expect(conversion.ok).toBe(false);
    if (!conversion.ok) {
      expect(conversion.reason).toMatch(/the closest config would change who gets in: a job with sub "/);
      expect(conversion.reason).toMatch(message);
    }
  });
});

describe("the output is data, never code", () => {
  const INJECTED =
    'x"\n          - project: attacker/repo\n            anyRef: true\n            protected: false\n# ';

  test("a sub value holding a newline and YAML stays inside its comment; no document gains attacker/repo", () => {
    // GIVEN two roles: one that converts, and one whose sub value carries YAML after a newline (refused)
    const good = JSON.parse(trust(MAIN)).Role;
    const evil = {
      ...good,
      RoleName: "evil",
      AssumeRolePolicyDocument: {
        ...good.AssumeRolePolicyDocument,
        Statement: [
          {
            ...good.AssumeRolePolicyDocument.Statement[0],
            Condition: {
              StringEquals: { "gitlab.com:aud": "https://gitlab.com" },
              StringLike: { "gitlab.com:sub": `project_path:acme/*${INJECTED}` },
            },
          },
        ],
      },
    };
    const result = auditText(JSON.stringify({ RoleDetailList: [good, evil] }), "account.json");
    // WHEN converted
    const output = toConfig(result, "account.json");
    // THEN the hostile role is refused in one comment line, and the parsed output grants nothing to attacker/repo
    expect(output.refused.map((r) => r.name)).toEqual(["evil"]);
    const refusedLines = output.yaml.split("\n").filter((line) => line.includes("evil"));
    expect(refusedLines).toHaveLength(1);
    expect(refusedLines[0]).toMatch(/^# not converted: evil: .*\\u000a/);
    const documents = parseAllDocuments(output.yaml).map((doc) => doc.toJS());
    expect(JSON.stringify(documents)).not.toContain("attacker/repo");
    expect(documents).toHaveLength(1);
    expect(documents[0].accounts[0].roles.map((r: { name: string }) => r.name)).toEqual(["deploy"]);
  });

  test("values that reach YAML data (description, tags, inline policy names and documents) read back as written", () => {
    const role = JSON.parse(trust(MAIN)).Role;
    // The config refuses line breaks in descriptions and tags (IAM's rules); policy documents take anything.
    const yamlish = 'a": b #c: "d" &x *x !!js/function >| - e: [f] {g}';
    const hostile = "a: b #c &x *x !!js/function >| - e: [f] {g}\n- attacker: true\n";
    const text = JSON.stringify({
      RoleDetailList: [
        {
          ...role,
          Description: yamlish,
          Tags: [{ Key: "team", Value: "- a: b @c" }],
          AttachedManagedPolicies: [],
          RolePolicyList: [
            {
              PolicyName: "assets",
              PolicyDocument: {
                Version: "2012-10-17",
                Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: hostile }],
              },
            },
          ],
        },
      ],
    });
    const output = toConfig(auditText(text, "account.json"), "account.json");
    expect(output.refused).toEqual([]);
    const [document] = parseAllDocuments(output.yaml).map((doc) => doc.toJS());
    const converted = document.accounts[0].roles[0];
    expect(converted.description).toBe(yamlish);
    expect(converted.tags).toEqual({ team: "- a: b @c" });
    expect(converted.inlinePolicies.assets.Statement[0].Resource).toBe(hostile);
  });

  test("the file name in the header is escaped too", () => {
    const file = "x.json\nattacker: true";
    const output = toConfig(auditText(trust(MAIN), file), file);
    expect(output.yaml).toContain("from x.json\\u000aattacker: true");
    expect(parseAllDocuments(output.yaml)[0].toJS()).not.toHaveProperty("attacker");
  });

  test("the parse-back check refuses text whose documents differ from what was meant", () => {
    const meant = [{ gitlab: { url: "https://gitlab.com" } }];
    expect(() => checkReadsBack("gitlab:\n  url: https://gitlab.com\n", meant)).not.toThrow();
    // A comment that escaped and continued the document, a second document, a changed value
    expect(() => checkReadsBack("gitlab:\n  url: https://gitlab.com\nattacker: true\n", meant)).toThrow(
      OutputMismatchError,
    );
    expect(() => checkReadsBack("gitlab:\n  url: https://gitlab.com\n---\nx: 1\n", meant)).toThrow(
      /2 documents instead of 1/,
    );
    expect(() => checkReadsBack("gitlab:\n  url: https://evil.example\n", meant)).toThrow(
      /document 1 differs/,
    );
  });

  test("commentText leaves one line whatever the input holds", () => {
    for (const c of ["\n", "\r", "\u2028", "\u2029", "\u0085", "\u0000", "\u001b"]) {
      expect(commentText(`a${c}b`)).not.toContain(c);
    }
    expect(commentText("a\\u000ab")).toBe("a\\\\u000ab"); // a backslash is escaped, so escapes stay unambiguous
  });

  test("the CLI prints the summary (narrowed, unknown policies) to stderr and the YAML alone to stdout", () => {
    const dir = mkdtempSync(join(tmpdir(), "audit-to-config-"));
    try {
      const file = join(dir, "role.json");
      writeFileSync(
        file,
        trust(MAIN).replace(/"StringEquals":\{"gitlab.com:aud":"https:\/\/gitlab.com"\},/, ""),
      );
      let stdout = "";
      let stderr = "";
      const code = runCli([file, "--to-config"], {
        stdout: (t) => (stdout += t),
        stderr: (t) => (stderr += t),
      });
      expect(code).not.toBe(EXIT_FINDINGS);
      expect(stderr).toMatch(/1 role converted, 0 not converted/);
      expect(stderr).toMatch(
        /NARROWED deploy: the trust checks no aud; the config requires aud "https:\/\/gitlab.com"/,
      );
      expect(stderr).toMatch(/UNKNOWN POLICIES deploy/);
      expect(parseAllDocuments(stdout)).toHaveLength(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
