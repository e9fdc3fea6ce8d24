/**
 * The team's TypeScript extension point (src/extension, docs/extending.md), with the fixture extension
 * in test/fixtures/extension/: a permissions-boundary policy and one more role in every account.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfigFile } from "../src/config/load";
import { ConfigError } from "../src/config/rules";
import type { Config } from "../src/config/schema";
import { defineExtension, type Extension } from "../src/extension";
import { ExtensionError, loadExtension } from "../src/extension/load";
import { extensionFor } from "../src/layout";
import { buildApp, synthesize } from "../src/synth";
import { readSynthesizedStacks, type SynthesizedStack } from "../src/terraform/synthesized-stacks";
import { AccountStack } from "../stacks/account-stack";

const FIXTURE = join(__dirname, "fixtures", "extension", "gitlab-oidc.yaml");

let root: string;
let outdir: string;
let config: Config;
let stacks: SynthesizedStack[];
beforeAll(async () => {
  // GIVEN the fixture config and the extension beside it, synthesized once for this file
  root = mkdtempSync(join(tmpdir(), "gitlab-oidc-extension-"));
  outdir = join(root, "terraform");
  config = loadConfigFile(FIXTURE);
  synthesize(config, { outdir, hcl: true, extension: loadExtension(extensionFor(FIXTURE))! });
  stacks = await readSynthesizedStacks(outdir);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const hcl = (stack: string) => readFileSync(join(outdir, "stacks", stack, "cdk.tf"), "utf8");

describe("an extension beside the config", () => {
  test("adds its resources to the HCL of every account stack", () => {
    for (const stack of ["production", "staging"]) {
      expect(hcl(stack)).toContain('resource "aws_iam_policy" "gitlab-boundary"');
      expect(hcl(stack)).toContain('resource "aws_iam_role" "gitlab-bounded-assets"');
    }
    expect(hcl("staging")).toMatch(
      /permissions_boundary\s*=\s*"arn:aws:iam::222222222222:policy\/gitlab\/gitlab-boundary"/,
    );
  });

  test("its role goes through the tool's model: trust policy, role_arns output, ACCESS.md, and the model equals the HCL", () => {
    const role = stacks[0]!.roles.find((r) => r.name === "gitlab-bounded-assets")!;
    expect(role.trustPolicy.Statement.length).toBeGreaterThan(0);
    expect(JSON.stringify(role.trustPolicy)).toContain("project_path:acme/web:ref_type:branch:ref:main");
    expect(hcl("production")).toMatch(/gitlab-bounded-assets\s*=\s*aws_iam_role\.gitlab-bounded-assets\.arn/);
    expect(readFileSync(join(outdir, "ACCESS.md"), "utf8")).toContain("gitlab-bounded-assets");
    const described = buildApp(config, join(root, "memory"), true, loadExtension(extensionFor(FIXTURE)))
      .node.children.filter((child) => child instanceof AccountStack)
      .map((stack) => stack.synthesized);
    expect(stacks).toEqual(described);
  });

  test("a role it adds is held to the config's rules: a wildcard project path is refused, naming where", () => {
    // GIVEN an extension adding a role with a grant the rules refuse
    const bad: Extension = defineExtension({
      accountStack(stack) {
        stack.addRole({ name: "loose", allow: [{ project: "acme/*", branches: ["main"] }] });
      },
    });
    // WHEN synthesized THEN a ConfigError names the role and the problem, and nothing is written
    const out = join(root, "refused");
    let error: unknown;
    try {
      synthesize(config, { outdir: out, hcl: true, extension: bad });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/wildcards are not allowed in a project path/);
    expect(() => readFileSync(join(out, "manifest.json"))).toThrow();
  });

  test("a role whose audience the provider does not accept, or a duplicate name, is refused", () => {
    const add = (role: Parameters<AccountStack["addRole"]>[0]) => () =>
      synthesize(config, {
        outdir: join(root, "refused"),
        hcl: true,
        extension: { accountStack: (stack) => void stack.addRole(role) },
      });
    expect(
      add({ name: "other-aud", audience: "elsewhere", allow: [{ project: "acme/web", branches: ["main"] }] }),
    ).toThrow(/the account's provider does not accept elsewhere/);
    expect(add({ name: "gitlab-deploy-web", allow: [{ project: "acme/web", branches: ["main"] }] })).toThrow(
      /a role named gitlab-deploy-web already exists/,
    );
    expect(add({ name: "typo", allow: [{ project: "acme/web", branchs: ["main"] }] } as never)).toThrow(
      ConfigError,
    );
  });

  test("a file whose default export is not an extension is refused, saying what to export", () => {
    expect(() =>
      loadExtension(join(__dirname, "fixtures", "extension", "not-an-extension.extend.ts")),
    ).toThrow(ExtensionError);
    expect(loadExtension(join(__dirname, "fixtures", "extension", "absent.extend.ts"))).toBeUndefined();
  });
});
