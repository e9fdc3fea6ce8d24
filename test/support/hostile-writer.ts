/**
 * TEST SUPPORT: hostile values that got past validation, for the writer's own defence
 * (test/writer-escaping.test.ts, test/adopt-escaping.test.ts, and terraform's reading of the same files in
 * test/e2e/terraform-reads-hostile.test.ts). The configs are built from code, bypassing the config
 * loader; a test using them mocks the constructs' rules (src/config/rules: checkRole,
 * checkAccountFields and checkAudienceList) to accept everything, in its own jest.mock (a mock's factory
 * may not use an import).
 */
import type { Config } from "../../src/config/schema";
import { minimalConfig, parse, type RawConfig } from "./configs";

export const INJECTED_BLOCK =
  'x"\n}\nresource "aws_iam_role_policy_attachment" "pwn" {\n  role = "deploy"\n  policy_arn = "arn:aws:iam::aws:policy/AdministratorAccess"\n}\nlocals {\n  y = {\n"z';
export const READ_ENV = '${file("/proc/self/environ")}';
export const DIRECTIVE = "%{ if true }x%{ endif }";
export const ONLY_INTERPOLATION = "${aws_iam_role.deploy.arn}";
const HEREDOC_END = 'line one\nEOF\nresource "null_resource" "n" {}\n<<EOF';

export const HOSTILE = {
  tagKey: INJECTED_BLOCK,
  tagValue: `${READ_ENV} ${DIRECTIVE}`,
  description: `${READ_ENV}\n${HEREDOC_END} \\" \\ $\${already} $$\${x} %%{y} \${aws_iam_role.deploy.arn}`,
  path: `/${READ_ENV}/${DIRECTIVE}/`,
  permissionsBoundary: `arn:aws:iam::111111111111:policy/${READ_ENV}/b`,
  managedPolicyArn: `arn:aws:iam::aws:policy/"\\${READ_ENV}${DIRECTIVE}/P`,
  deployRoleArn: `arn:aws:iam::111111111111:role/${DIRECTIVE}"\\/r`,
  audience: `${READ_ENV}"\\`,
  accountTagKey: '"} ]\nresource "x" "y" {',
  accountTagValue: "${jsonencode(data)}",
  inlinePolicy: {
    Version: "2012-10-17" as const,
    Statement: [
      {
        Effect: "Allow",
        Action: `s3:${DIRECTIVE}`,
        Resource: `arn:aws:s3:::b/${READ_ENV}"\\\n$\${aws:username}`,
      },
      { [`${INJECTED_BLOCK}`]: "x", Sid: `" }) } resource "x" "y" { a = ({ "` },
    ],
  },
};

/** One account with one role carrying every hostile value above. */
export function hostileConfig(): Config {
  const config = parse(minimalConfig());
  const account = config.accounts[0];
  return {
    ...config,
    gitlab: { ...config.gitlab, audience: [HOSTILE.audience, "https://gitlab.com"] },
    accounts: [
      {
        ...account,
        deployRoleArn: HOSTILE.deployRoleArn,
        // A value that is one interpolation and nothing else is what the unwrap step turns into an
        // expression; escaped, it must stay a string.
        tags: { [HOSTILE.accountTagKey]: HOSTILE.accountTagValue, team: READ_ENV, ref: ONLY_INTERPOLATION },
        roles: [
          {
            ...account.roles[0],
            description: HOSTILE.description,
            path: HOSTILE.path,
            permissionsBoundary: HOSTILE.permissionsBoundary,
            managedPolicyArns: [HOSTILE.managedPolicyArn],
            tags: { [HOSTILE.tagKey]: HOSTILE.tagValue, plain: DIRECTIVE },
            inlinePolicies: { p: HOSTILE.inlinePolicy },
          },
        ],
      },
    ],
  };
}

/** Values hclString must write as HCL literals that read back as themselves. */
export const HCL_LITERALS: readonly string[] = [
  READ_ENV,
  DIRECTIVE,
  "$${x}",
  "$$${x}",
  "%%{x}",
  "$",
  "%",
  '"\\',
  "a\nb\r\tc\u0001\u2028",
  INJECTED_BLOCK,
  "Grüße 👋",
];

/** A managed policy ARN that tries to close the import ID string, interpolate and add a block. */
export const ADOPTED_ARN =
  'arn:aws:iam::aws:policy/"\\${file("/etc/passwd")}%{ if true }x%{ endif }"\n}\nresource "x" "y" {/P';
/** An inline policy name that tries the same. */
export const ADOPTED_POLICY = 'p"${x}\n}';

/** An adopted account whose role carries ADOPTED_ARN and an inline policy named ADOPTED_POLICY. */
export function hostileAdoption(): Config {
  const config = parse(minimalConfig());
  const account = config.accounts[0];
  const document = {
    Version: "2012-10-17" as const,
    Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: "*" }],
  };
  return {
    ...config,
    accounts: [
      {
        ...account,
        adopt: true,
        roles: [
          {
            ...account.roles[0],
            managedPolicyArns: [ADOPTED_ARN],
            inlinePolicies: { [ADOPTED_POLICY]: document },
          },
        ],
      },
    ],
  };
}

/** A managed policy of AWS's and one of the team's, for adopted roles (test/adopt.test.ts). */
export const READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess";
export const TEAM = "arn:aws:iam::111111111111:policy/team/Deploy";
/** An inline policy set: one policy named assets. */
export const ASSETS = {
  assets: { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: "*" }] },
};

/** Not hostile: an adopted account whose role has both managed policies and the inline one. */
export function adoptedWithPolicies(): RawConfig {
  return minimalConfig({ managedPolicyArns: [READ_ONLY, TEAM], inlinePolicies: ASSETS }, { adopt: true });
}
