/**
 * The access report tells a reviewer the truth: it flags inline policies with administrator-level
 * reach or that IAM will refuse, tag patterns and group grants; it shows non-ASCII text as code points;
 * and it is rendered from what will be deployed (its input equals the HCL parsed back).
 */
import { join } from "node:path";
import { readFileSync } from "node:fs";
import type { Config } from "../src/config/schema";
import { renderAccessReport, visible } from "../src/report/access-report";
import { inlinePolicyRisks } from "../src/report/risks";
import { buildApp } from "../src/synth";
import { AccountStack } from "../stacks/account-stack";
import { minimalConfig, parse, synthesizeToTemp } from "./support/configs";

const policy = (...Statement: Record<string, unknown>[]) => ({ Version: "2012-10-17", Statement });

describe("inline policies with administrator-level reach are flagged", () => {
  test.each([
    [
      "Action *",
      { Effect: "Allow", Action: "*", Resource: "*" },
      /`Action: \*`: every action on every service/,
    ],
    [
      "iam:*",
      { Effect: "Allow", Action: ["iam:*"], Resource: "arn:aws:iam::111111111111:role/x" },
      /`iam:\*`: can create and change IAM roles/,
    ],
    [
      "NotAction",
      { Effect: "Allow", NotAction: "iam:*", Resource: "*" },
      /allows `NotAction`: every action except iam:\*/,
    ],
    [
      "write actions on Resource *",
      { Effect: "Allow", Action: ["s3:PutObject", "s3:GetObject"], Resource: "*" },
      /write actions on `Resource: \*` \(s3:PutObject\)/,
    ],
    [
      "sts:AssumeRole on *",
      { Effect: "Allow", Action: "sts:AssumeRole", Resource: ["*"] },
      /`sts:AssumeRole` on `\*`: any role in any account/,
    ],
    [
      "Principal (invalid in an identity policy)",
      { Effect: "Allow", Principal: "*", Action: "s3:GetObject", Resource: "arn:aws:s3:::b/*" },
      /has `Principal`, which IAM refuses in an identity policy: the apply fails/,
    ],
    [
      "NotPrincipal",
      { Effect: "Deny", NotPrincipal: { AWS: "x" }, Action: "s3:*", Resource: "*" },
      /has `NotPrincipal`/,
    ],
  ])("%s", (_name, statement, expected) => {
    const risks = inlinePolicyRisks("p", policy(statement));
    expect(risks.map((r) => r.message).join("\n")).toMatch(expected);
    expect(risks.every((r) => r.level === "high")).toBe(true);
  });

  test("read-only actions on *, and writes on named resources, are not flagged", () => {
    expect(
      inlinePolicyRisks(
        "p",
        policy(
          { Effect: "Allow", Action: ["ec2:Describe*", "s3:GetObject", "s3:ListBucket"], Resource: "*" },
          { Effect: "Allow", Action: "s3:PutObject", Resource: "arn:aws:s3:::acme-web/*" },
          { Effect: "Deny", Action: "*", Resource: "*" },
        ),
      ),
    ).toEqual([]);
  });
});

/** A config whose values are valid but would mislead a naive writer or reader. */
function trickyConfig(): Config {
  return parse(
    minimalConfig({
      description: 'Deploys "web" ${aws_iam_role.x.arn} %{ if } Z\u00fcrich\u00ad (soft hyphen)\nsecond line',
      tags: { "Z\u00fcrich": "caf\u00e9\u2028team", "cost:center": "42" },
      allow: [
        { project: "acme/web", branches: ["main", "fix/gr\u00f6\u00dfe"] },
        { group: "acme/platform", tags: ["v*"] },
      ],
      inlinePolicies: {
        admin: policy({ Effect: "Allow", Action: "*", Resource: "*" }),
        home: policy({
          Effect: "Allow",
          Action: "s3:PutObject",
          Resource: "arn:aws:s3:::b/${aws:username}/*",
        }),
      },
    }),
  );
}

describe.each([
  ["HCL", true],
  ["JSON", false],
])("the report is built from what will be deployed (%s)", (_format, hcl) => {
  test("its input equals the Terraform parsed back, and so does the report", async () => {
    // GIVEN the model the synth hands to the report, straight from the stacks
    const config = trickyConfig();
    const app = buildApp(config, join(__dirname, "unused"), hcl);
    const model = app.node.children
      .filter((c) => c instanceof AccountStack)
      .map((stack) => stack.synthesized);
    // WHEN the same config is written and the files are parsed back (hcl2json for cdk.tf)
    const written = await synthesizeToTemp(config, hcl);
    try {
      // THEN the two agree field for field, inline policy documents included, and so do the reports
      expect(written.stacks).toEqual(model);
      expect(renderAccessReport(config, written.stacks)).toBe(renderAccessReport(config, model));
      expect(readFileSync(join(written.dir, "ACCESS.md"), "utf8")).toBe(
        renderAccessReport(config, written.stacks),
      );
    } finally {
      written.cleanup();
    }
  });
});

describe("what the report shows", () => {
  let report: string;
  beforeAll(async () => {
    const written = await synthesizeToTemp(trickyConfig());
    report = readFileSync(join(written.dir, "ACCESS.md"), "utf8");
    written.cleanup();
  });

  test("flags the admin-level inline policy, in the role and in the summary", () => {
    expect(report).toMatch(
      /^\| production \| `deploy` \| ⛔ inline policy `admin`: Statement\[0\] allows `Action: \*`/m,
    );
    expect(report).toMatch(/^- ⛔ inline policy `admin`: Statement\[0\] allows `Action: \*`/m);
    expect(report).not.toMatch(/inline policy `home`/);
  });

  test("shows non-ASCII in descriptions, tags and ref names as code points, so nothing hides", () => {
    expect(report).toContain(
      'Description: `Deploys "web" ${aws_iam_role.x.arn} %{ if } Z\\u{FC}rich\\u{AD} (soft hyphen)\\u{A}second line`',
    );
    expect(report).toContain("- Tags: `Z\\u{FC}rich` = `caf\\u{E9}\\u{2028}team`, `cost:center` = `42`");
    expect(report).toContain("| project `acme/web` | branch | `fix/gr\\u{F6}\\u{DF}e` |");
    expect(visible("a\\u{41}")).toBe("a\\\\u{41}"); // a backslash in the value cannot forge an escape
  });
});
