/**
 * The writer's own defence: hostile values that got past validation still reach Terraform as literals.
 * Validation is switched off here (the constructs' rules are mocked to accept everything), the stacks
 * are built from code, bypassing the config loader, and the written HCL and JSON are parsed back with
 * @cdktf/hcl2json: no block appears that the constructs did not make, and every value, read as
 * Terraform reads a template (`$${` → `${`, `%%{` → `%{`), is the literal input.
 */
import { parse as parseHcl } from "@cdktf/hcl2json";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { synthesize } from "../src/synth";
import {
  escapeTemplate,
  fromTemplate,
  hclString,
  hclStringBody,
  hclStringBodyEscaped,
} from "../src/terraform/literal";
import { randomText, seeded } from "./support/seeded";
import { readJsonencode, readStackConfiguration } from "../src/terraform/synthesized-stacks";
import {
  DIRECTIVE,
  HOSTILE,
  hostileConfig,
  HCL_LITERALS,
  ONLY_INTERPOLATION,
  READ_ENV,
} from "./support/hostile-writer";

// A value that got past validation: the constructs' rules accept everything in this file.
jest.mock("../src/config/rules", () =>
  (
    jest.requireActual("./support/unchecked-rules") as typeof import("./support/unchecked-rules")
  ).uncheckedRules(),
);

type Block = Record<string, unknown>;
const one = (value: unknown): Block => (Array.isArray(value) ? value[0] : value) as Block;
/** Every key and value through Terraform's reading of a literal template. */
const literalMap = (map: unknown) =>
  Object.fromEntries(
    Object.entries(map as Record<string, string>).map(([k, v]) => [fromTemplate(k), fromTemplate(v)]),
  );

/** `resource.type.name` and `data.type.name` of every block in a parsed stack. */
function addresses(tf: Block): string[] {
  return ["resource", "data"].flatMap((kind) =>
    Object.entries((tf[kind] ?? {}) as Block).flatMap(([type, byName]) =>
      Object.keys(byName as Block).map((name) => `${kind}.${type}.${name}`),
    ),
  );
}

describe.each([
  ["HCL (cdk.tf)", true],
  ["JSON (cdk.tf.json)", false],
])("the writer, %s, given hostile values that got past validation", (_format, hcl) => {
  let root: string;
  let tf: Block;
  let source: string;
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), "gitlab-oidc-hostile-"));
    // WHEN the stacks are built from code and written
    synthesize(hostileConfig(), { outdir: join(root, "out"), hcl });
    const file = join(root, "out", "stacks", "production", hcl ? "cdk.tf" : "cdk.tf.json");
    source = readFileSync(file, "utf8");
    tf = hcl ? ((await parseHcl(file, source)) as Block) : (JSON.parse(source) as Block);
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  test("adds no resource, data source or provider the constructs did not make", () => {
    expect(addresses(tf).sort()).toEqual([
      "data.aws_iam_policy_document.deploy_trust",
      "resource.aws_iam_openid_connect_provider.gitlab",
      "resource.aws_iam_role.deploy",
      "resource.aws_iam_role_policies_exclusive.deploy",
      "resource.aws_iam_role_policy.deploy_p",
      "resource.aws_iam_role_policy_attachment.deploy",
      "resource.aws_iam_role_policy_attachments_exclusive.deploy",
    ]);
    expect(Object.keys(tf).sort()).toEqual(
      hcl
        ? ["data", "output", "provider", "resource", "terraform"]
        : ["//", "data", "output", "provider", "resource", "terraform"],
    );
    expect(Object.keys(tf.provider as Block)).toEqual(["aws"]);
    // … and no heredoc, which a line "EOF" in the value would end
    if (hcl) expect(source).not.toMatch(/= <<-?EOF\n/);
  });

  // terraform itself reads the same file in test/e2e/terraform-reads-hostile.test.ts (HCL's own parser
  // reads it above, in process).

  test("role tags: a key that tries to close the map and a template value are literal keys and values", () => {
    const role = one((tf.resource as Block).aws_iam_role as Block);
    expect(literalMap(one(role.deploy).tags)).toEqual({
      [HOSTILE.tagKey]: HOSTILE.tagValue,
      plain: DIRECTIVE,
    });
  });

  test("description, path and permissions boundary hold the literal text, templates included", () => {
    const role = one(one((tf.resource as Block).aws_iam_role).deploy);
    expect(fromTemplate(role.description as string)).toBe(HOSTILE.description);
    expect(fromTemplate(role.path as string)).toBe(HOSTILE.path);
    expect(fromTemplate(role.permissions_boundary as string)).toBe(HOSTILE.permissionsBoundary);
  });

  test("the provider's default tags and the audiences are literal, and the deploy role ARN is not in the HCL", () => {
    const aws = one((tf.provider as Block).aws);
    expect(literalMap(one(one(aws.default_tags).tags))).toEqual({
      "managed-by": "gitlab-oidc-aws",
      [HOSTILE.accountTagKey]: HOSTILE.accountTagValue,
      team: READ_ENV,
      ref: ONLY_INTERPOLATION,
    });
    // The deploy role ARN is not in the HCL at all: each deploy job's AWS profile names it (issue 14).
    expect(aws).not.toHaveProperty("assume_role");
    const provider = one(one((tf.resource as Block).aws_iam_openid_connect_provider).gitlab);
    expect((provider.client_id_list as string[]).map(fromTemplate)).toEqual([
      HOSTILE.audience,
      "https://gitlab.com",
    ]);
  });

  test("the model read back from the file equals what the constructs were given (managed ARNs inside toset too)", () => {
    const stack = readStackConfiguration("production", tf);
    const [role] = stack.roles;
    expect(role.managedPolicyArns).toEqual([HOSTILE.managedPolicyArn]);
    expect(role.tags).toEqual({ [HOSTILE.tagKey]: HOSTILE.tagValue, plain: DIRECTIVE });
    expect(role.description).toBe(HOSTILE.description);
    expect(role.inlinePolicies).toEqual({ p: HOSTILE.inlinePolicy });
    expect(stack.providerAudiences).toEqual([HOSTILE.audience, "https://gitlab.com"]);
  });
});

describe("hclString, the one escape for HCL literals", () => {
  const values = HCL_LITERALS;

  test("is parsed by HCL back to the value", async () => {
    const text = values.map((value, i) => `v${i} = ${hclString(value)}`).join("\n");
    const parsed = (await parseHcl("values.tf", text)) as Record<string, string>;
    expect(values.map((_, i) => fromTemplate(parsed[`v${i}`]))).toEqual(values);
  });

  // terraform console reads the same literals in test/e2e/terraform-reads-hostile.test.ts.
});

describe("reading an inline policy back", () => {
  test("from jsonencode({...}) with HCL's = and escapes, and from a policy written as a JSON string", () => {
    const document = {
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Action: "s3:*", Resource: "a=${b}" }],
    };
    expect(
      readJsonencode(
        '${jsonencode({ "Version" = "2012-10-17", "Statement" = [{ "Effect" = "Allow", "Action" = "s3:*", "Resource" = "a=$${b}" }] })}',
      ),
    ).toEqual(document);
    expect(readJsonencode(JSON.stringify(document).replace("${", "$${"))).toEqual(document);
  });
});

test("GIVEN 5,000 random values WHEN escaped as literals THEN each shortcut returns what the escapes return", () => {
  const random = seeded(11);
  const pieces = [
    "a",
    " ",
    "{",
    "}",
    "${",
    "%{",
    "$${",
    "\\",
    '"',
    "\n",
    "\r",
    "\t",
    "\u0000",
    "\u007f",
    "\u2028",
    "é",
    "😀",
    "$",
    "%",
  ];
  const templateEscaped = (value: string) => value.replace(/\$\{/g, "$$$${").replace(/%\{/g, "%%{");
  const templateRead = (value: string) => value.replace(/\$\$\{/g, "${").replace(/%%\{/g, "%{");
  let unchanged = 0;
  // One assertion over all of them (an expect per value was most of the test's time).
  const differing: { value: string; what: string; shortcut: string; escaped: string }[] = [];
  const compare = (value: string, what: string, shortcut: string, escaped: string) => {
    if (shortcut !== escaped) differing.push({ value, what, shortcut, escaped });
  };
  for (let i = 0; i < 5000; i++) {
    const value = randomText(random, pieces, 5);
    if (hclStringBody(value) === value) unchanged++;
    compare(value, "hclStringBody", hclStringBody(value), hclStringBodyEscaped(value));
    compare(value, "escapeTemplate", escapeTemplate(value), templateEscaped(value));
    compare(value, "fromTemplate", fromTemplate(value), templateRead(value));
  }
  expect(differing).toEqual([]);
  expect(unchanged).toBeGreaterThan(200);
});
