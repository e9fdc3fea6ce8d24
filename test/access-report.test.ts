/**
 * terraform/ACCESS.md: rendered from the synthesized trust policies, deterministic, registered as a
 * generated file, and flagging risky grants (any ref, branch wildcards, administrator policies).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { generatedFiles } from "../src/generated-files";
import {
  adminPolicyRisk,
  code,
  fencedCode,
  grantRisks,
  renderAccessReport,
  statementFacts,
} from "../src/report/access-report";
import { parseSubjectGrant } from "../src/explain/subject";
import type { SynthesizedStack } from "../src/terraform/synthesized-stacks";
import { randomText, seeded } from "./support/seeded";
import { EXPLAIN_CONFIG, synthesizeFixture, type ExplainFixture } from "./support/explain-fixture";

let fixture: ExplainFixture;
let report: string;

beforeAll(async () => {
  fixture = await synthesizeFixture();
  report = renderAccessReport(fixture.config, fixture.stacks);
}, 60_000);
afterAll(() => fixture?.cleanup());

/** The report of the fixture synthesized with another `gitlab` block. */
async function reportWithGitlab(gitlab: Record<string, unknown>): Promise<string> {
  const variant = await synthesizeFixture({ ...EXPLAIN_CONFIG, gitlab });
  try {
    return renderAccessReport(variant.config, variant.stacks);
  } finally {
    variant.cleanup();
  }
}

/** The lines of one role's section. */
function section(role: string, stack: string): string {
  const start = report.indexOf(`## ${stack} `);
  const roleStart = report.indexOf(`### ${role}\n`, start);
  expect(roleStart).toBeGreaterThan(start);
  const end = report.indexOf("\n##", roleStart + 1);
  return report.slice(roleStart, end === -1 ? undefined : end);
}

describe("renderAccessReport", () => {
  test("lists each role's projects/groups × refs, audience, policies, boundary, session and path", () => {
    // GIVEN the fixture's production/deploy role
    const deploy = section("deploy", "production");
    // THEN its grants are read from the trust policy, one row per sub value
    expect(deploy).toContain("| project `acme/web` | branch | `main` |");
    expect(deploy).toContain("| project `acme/web` | branch | `release/*` |");
    expect(deploy).toContain("| group `acme/platform` (every project below it) | tag | `v*` |");
    expect(deploy).toContain("- Audience (`aud`): `sts.amazonaws.com`");
    expect(deploy).toContain("- Managed policies: `arn:aws:iam::aws:policy/ReadOnlyAccess`");
    expect(deploy).toContain("- Inline policies: `deploy-assets`");
    expect(deploy).toContain("- Permissions boundary: none");
    expect(deploy).toContain("- Path: `/gitlab/`");
    expect(deploy).toContain("- ARN: `arn:aws:iam::111111111111:role/gitlab/deploy`");
    // … and the admin role shows its boundary and longer session
    const admin = section("admin", "production");
    expect(admin).toContain("- Permissions boundary: `arn:aws:iam::111111111111:policy/gitlab-boundary`");
    expect(admin).toContain("- Max session: 7200 s (2 h)");
  });

  test("flags unprotected refs, any-ref grants and administrator-level policies, in the role and the summary", () => {
    const preview = section("preview", "staging");
    // THEN protected: false on a `*` branch is flagged, anyRef is flagged even on protected refs, and each
    // row says whether it is limited to protected refs and which IDs pin it
    expect(preview).toMatch(
      /project `acme\/web` \| branch \| `\*` \| \*\*no\*\* \| project `\d+` \|.*⚠️ unprotected refs allowed \(protected: false\) with the pattern `\*`/,
    );
    expect(preview).toMatch(
      /group `acme\/platform` \(every project below it\) \| any \| any ref \| yes \| namespaces `\d+`, `7001`, `7002` \|.*⚠️ any protected ref/,
    );
    expect(preview).toMatch(/⛔ administrator-level managed policy `PowerUserAccess`/);
    // … pinned, protected grants are not flagged, wildcards included
    expect(section("deploy", "production")).toMatch(/\| `release\/\*` \| yes \| project `\d+` \| .* \| — \|/);
    expect(section("deploy", "production")).toMatch(/\| `main` \| yes \| .* \| — \|/);
    // … a group grant is flagged (anyone who can create a project in the group gets in), a protected
    // tag pattern is not: an unprotected tag matching it is denied
    expect(section("deploy", "production")).toMatch(
      /\| group `acme\/platform` .*\| tag \| `v\*` \| yes \| namespaces .*⚠️ group grant: anyone allowed to create a project in `acme\/platform`/,
    );
    expect(section("deploy", "production")).not.toMatch(/wildcard tag pattern/);
    expect(section("admin", "production")).toMatch(
      /⛔ administrator-level managed policy `AdministratorAccess`/,
    );
    // … and the summary table lists each flagged grant once with its account and role
    const summary = report.slice(report.indexOf("## Risky grants"), report.indexOf("## production"));
    // (2 ref flags, 2 policy flags, 2 group grants)
    expect(summary.match(/^\| (production|staging) \|/gm)).toHaveLength(6);
    expect(summary).toContain(
      "| production | `admin` | ⛔ administrator-level managed policy `AdministratorAccess`",
    );
  });

  test("flags grants matched by path only (pinIds: false)", async () => {
    // GIVEN the fixture with ID pinning switched off
    const text = await reportWithGitlab({ url: "https://gitlab.com", pinIds: false });
    // THEN every grant says it is matched by path only, and the summary says pinIds is off
    expect(text).toMatch(
      /project `acme\/web` \| branch \| `main` \| yes \| \*\*no\*\* \|.*⚠️ matched by path only/,
    );
    expect(text).toContain("gitlab.pinIds: false");
  }, 60_000);

  test("flags group grants with a project_id-first sub, where the sub names no group", async () => {
    // GIVEN the fixture (group grants on acme/platform) with the projects' sub starting with project_id
    // WHEN the report is rendered
    const text = await reportWithGitlab({
      url: "https://gitlab.com",
      subClaim: ["project_id", "ref_type", "ref"],
    });
    // THEN the group's row (project_id:* pinned to the group's namespaces) carries the group-grant flag,
    // in the row and in the summary, as the same grant does with a project_path sub
    expect(text).toMatch(
      /\| projects in the pinned namespaces \| tag \| `v\*` \|.*\| ⚠️ group grant \(`project_id:\*` in the pinned namespaces\)/,
    );
    expect(text).toMatch(/^\| production \| `[^`]+` \| ⚠️ group grant \(`project_id:\*`/m);
  }, 60_000);

  test("a grant's userAccessLevels show in its row's Also required column", async () => {
    // GIVEN the fixture's admin role granted to maintainers and owners only
    type Role = { name: string; allow: Record<string, unknown>[] };
    const [account] = EXPLAIN_CONFIG.accounts as { roles: Role[] }[];
    const roles = account!.roles.map((role) =>
      role.name === "admin"
        ? { ...role, allow: [{ ...role.allow[0], userAccessLevels: ["maintainer", "owner"] }] }
        : role,
    );
    const variant = await synthesizeFixture({ ...EXPLAIN_CONFIG, accounts: [{ ...account, roles }] });
    try {
      // WHEN the report is rendered THEN acme/infra's row names the condition it is ANDed with
      const text = renderAccessReport(variant.config, variant.stacks);
      expect(text).toMatch(
        /project `acme\/infra` \| branch \| `main` \|.*\| user_access_level `maintainer`, `owner` \|/,
      );
    } finally {
      variant.cleanup();
    }
  }, 60_000);

  test("does not claim path-only matching for pinIds: false when the sub starts with project_id", async () => {
    // GIVEN pinIds: false with a project_id-first sub: projects are still pinned through sub, groups by namespace
    // WHEN the report is rendered
    const text = await reportWithGitlab({
      url: "https://gitlab.com",
      pinIds: false,
      subClaim: ["project_id", "ref_type", "ref"],
    });
    // THEN no row and no summary line says the grants match by path only, and every row shows its pin
    expect(text).not.toContain("by path only");
    expect(text).toMatch(/\| project ID `\d+` \|.*\| project `\d+` \(in sub\) \|/);
  }, 60_000);

  test("is deterministic and carries no timestamp", () => {
    expect(renderAccessReport(fixture.config, fixture.stacks)).toBe(report);
    expect(report).not.toMatch(/\d{4}-\d{2}-\d{2}T|\b20\d\d-\d\d-\d\d\b/);
  });

  test("reads what was synthesized, not the YAML: a changed trust policy changes the report", () => {
    // GIVEN the stacks with a hand-widened trust policy (an extra sub value)
    const [production, ...rest] = fixture.stacks;
    const deploy = production.roles.find((r) => r.name === "deploy");
    if (!deploy) throw new Error("no deploy role");
    const widened: SynthesizedStack = {
      ...production,
      roles: production.roles.map((r) =>
        r !== deploy
          ? r
          : {
              ...r,
              trustPolicy: {
                ...r.trustPolicy,
                Statement: r.trustPolicy.Statement.map((s, i) =>
                  i === 0
                    ? {
                        ...s,
                        Condition: {
                          ...s.Condition,
                          StringLike: { "gitlab.com:sub": ["project_path:*:ref_type:*"] },
                        },
                      }
                    : s,
                ),
              },
            },
      ),
    };
    // WHEN rendered
    const widenedReport = renderAccessReport(fixture.config, [widened, ...rest]);
    // THEN the new grant shows, flagged as reaching beyond one group and any ref
    expect(widenedReport).toContain("projects matching `*`");
    expect(widenedReport).toMatch(/⛔ project pattern `\*` can match projects outside one group/);
  });

  test("a statement without a sub condition is flagged as open to the whole instance", () => {
    const [production] = fixture.stacks;
    const role = production.roles[0];
    const audOnly: SynthesizedStack = {
      ...production,
      roles: [
        {
          ...role,
          trustPolicy: {
            Version: "2012-10-17",
            Statement: [
              {
                Effect: "Allow",
                Action: ["sts:AssumeRoleWithWebIdentity"],
                Principal: { Federated: [production.providerReference] },
                Condition: { StringEquals: { "gitlab.com:aud": ["https://gitlab.com"] } },
              },
            ],
          },
        },
      ],
    };
    expect(renderAccessReport(fixture.config, [audOnly])).toMatch(
      /⛔ statement #1 has no gitlab.com:sub condition/,
    );
  });

  test("risk helpers: pinned, protected tags and branches are not flagged; admin policies by AWS-managed name only", () => {
    // GIVEN a statement that pins the project and requires a protected ref, and one that does neither
    const pinned = statementFacts(
      { StringEquals: { "gitlab.com:project_id": ["1"], "gitlab.com:ref_protected": ["true"] } },
      "gitlab.com",
    );
    const bare = statementFacts({}, "gitlab.com");
    // THEN only what the statement leaves open is flagged
    expect(grantRisks(parseSubjectGrant("project_path:a/b:ref_type:tag:ref:v*"), pinned)).toEqual([]);
    expect(grantRisks(parseSubjectGrant("project_path:a/b:ref_type:branch:ref:main"), pinned)).toEqual([]);
    expect(grantRisks(parseSubjectGrant("project_path:a/b:ref_type:branch:ref:rel-?"), pinned)).toEqual([]);
    expect(
      grantRisks(parseSubjectGrant("project_path:a/b:ref_type:branch:ref:rel-?"), bare).map((r) => r.message),
    ).toEqual([
      expect.stringMatching(/^matched by path only, not pinned by ID/),
      expect.stringMatching(/^unprotected refs allowed \(protected: false\) with the pattern `rel-\?`/),
    ]);
    // AND an unprotected tag pattern is flagged once, by the tag check
    expect(
      grantRisks(parseSubjectGrant("project_path:a/b:ref_type:tag:ref:v*"), {
        ...pinned,
        refProtected: false,
      }).map((r) => r.message),
    ).toEqual([expect.stringMatching(/^wildcard tag pattern `v\*` with unprotected refs allowed/)]);
    // AND a sub that carries ref_protected:true and the project ID needs no other condition
    expect(
      grantRisks(parseSubjectGrant("project_id:7:ref_type:branch:ref:main:ref_protected:true"), bare),
    ).toEqual([]);
    expect(adminPolicyRisk("arn:aws:iam::aws:policy/IAMFullAccess")?.level).toBe("high");
    expect(adminPolicyRisk("arn:aws:iam::aws:policy/job-function/SystemAdministrator")).toBeDefined();
    expect(adminPolicyRisk("arn:aws:iam::111111111111:policy/AdministratorAccess")).toBeUndefined();
    expect(adminPolicyRisk("arn:aws:iam::aws:policy/ReadOnlyAccess")).toBeUndefined();
  });
});

describe("generated with the synth", () => {
  test("ACCESS.md is a generated file, written next to the stacks", () => {
    // GIVEN the fixture synthesized into <tmp>/terraform
    // THEN the synth wrote ACCESS.md there, equal to a fresh rendering
    expect(generatedFiles(fixture.config, fixture.stacks)["ACCESS.md"]).toBe(report);
    expect(readFileSync(join(fixture.outdir, "ACCESS.md"), "utf8")).toBe(report);
  });
});

test("GIVEN 5,000 random values WHEN written as inline code THEN the plain-value shortcut writes what the fenced form does", () => {
  const random = seeded(7);
  const pieces = [
    "a",
    "Z",
    "0",
    " ",
    "/",
    ":",
    "*",
    "-",
    "_",
    "~",
    "[",
    "]",
    "{",
    "}",
    "^",
    "`",
    "``",
    "|",
    "\\",
    "é",
    "\n",
    "\u0000",
    "😀",
    "\u007f",
  ];
  let plain = 0;
  // One assertion over all of them (an expect per value was most of the test's time).
  const differing: { value: string; code: string; fenced: string }[] = [];
  for (let i = 0; i < 5000; i++) {
    const value = randomText(random, pieces, 6);
    if (!/[`|\\]|[^\x20-\x7e]/.test(value)) plain++;
    const written = code(value);
    const fenced = fencedCode(value);
    if (written !== fenced) differing.push({ value, code: written, fenced });
  }
  expect(differing).toEqual([]);
  expect(plain).toBeGreaterThan(500);
});
