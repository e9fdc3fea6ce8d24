import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { DataAwsIamOpenidConnectProvider } from "@cdktf/provider-aws/lib/data-aws-iam-openid-connect-provider";
import { IamOpenidConnectProvider } from "@cdktf/provider-aws/lib/iam-openid-connect-provider";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { DataTlsCertificate } from "@cdktf/provider-tls/lib/data-tls-certificate";
import { Testing } from "cdktf";
import "cdktf/lib/testing/adapters/jest"; // types of the matchers registered below
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfigFile, sourceDigests } from "../src/config/load";
import { ConfigError } from "../src/config/rules";
import type { Config } from "../src/config/schema";
import { GitLabOidcProvider } from "../src/constructs/gitlab-oidc-provider";
import { GitLabOidcRole } from "../src/constructs/gitlab-oidc-role";
import { buildApp, synthesize } from "../src/synth";
import { readStackConfiguration } from "../src/terraform/synthesized-stacks";
import { AccountStack } from "../stacks/account-stack";
import {
  accountStackProps,
  addTerraformWorkingFiles,
  filesUnder,
  isTerraformWorkingFile,
  minimalConfig,
  parse,
  synthesizeToTemp,
  synthFilesUnder,
} from "./support/configs";
import { EXAMPLE_FIXTURE, exampleConfig, synthesizedExample } from "./support/example";

// cdktf's matchers (toHaveResource, toHaveResourceWithProperties, …): only this file uses them, so only
// this file pays for loading them.
Testing.setupJest();

const ROOT = join(__dirname, "..");
/** A self-managed instance can enforce protected refs only through the sub claim. */
const SUB_WITH_PROTECTION = ["project_path", "ref_type", "ref", "ref_protected"];

/** One stack synthesized to Terraform JSON with cdktf's Testing helpers. */
function synthStack(config: Config, index = 0): string {
  const app = Testing.app();
  const stack = new AccountStack(app, {
    gitlab: config.gitlab,
    state: config.state,
    limits: config.limits,
    account: config.accounts[index],
    ...(config.lock ? { lock: config.lock } : {}),
  });
  return Testing.synth(stack);
}

describe("the synthesized HCL (the example's copy in test/fixtures)", () => {
  let fresh: { dir: string };
  beforeAll(async () => {
    fresh = await synthesizedExample();
  });

  test("the committed-output check ignores what terraform init/plan write in a stack directory, and nothing else", () => {
    // GIVEN a copy of a fresh synth after `terraform init` and a plan job in the production stack
    const copy = join(fresh.dir, "..", "after-terraform");
    cpSync(fresh.dir, copy, { recursive: true });
    addTerraformWorkingFiles(join(copy, "stacks", "production"));
    // WHEN the committed-HCL check lists the synth's files
    // THEN Terraform's files are not among them, so the check passes
    expect(synthFilesUnder(copy)).toEqual(filesUnder(fresh.dir));
    // AND a file the synth did not write is still caught, in a stack or beside them
    for (const stray of ["stacks/production/extra.tf", "stacks/retired/cdk.tf", "plan.json", "notes.txt"]) {
      expect({ stray, ignored: isTerraformWorkingFile(stray) }).toEqual({ stray, ignored: false });
    }
  });

  test("has no machine-specific paths", () => {
    for (const file of filesUnder(fresh.dir)) {
      const content = readFileSync(join(fresh.dir, file), "utf8");
      expect({
        file,
        paths: content.match(/(\/tmp\/|\/work\/|\/home\/|\/root\/|\/Users\/|[A-Z]:\\)/g),
      }).toEqual({
        file,
        paths: null,
      });
    }
  });

  test("is deterministic: the run's shared synth (node dist/main.js) and one in this process agree", async () => {
    // GIVEN the example synthesized by the CLI (with its config's and lock's digests) WHEN it is synthesized
    // again in this process with the same digests THEN every file is the same
    const again = await synthesizeToTemp(exampleConfig(), true, sourceDigests(EXAMPLE_FIXTURE));
    try {
      for (const file of filesUnder(fresh.dir)) {
        expect(readFileSync(join(again.dir, file), "utf8")).toBe(readFileSync(join(fresh.dir, file), "utf8"));
      }
    } finally {
      again.cleanup();
    }
  });

  test.each([
    "test/fixtures/configs/example.yaml",
    "test/fixtures/configs/kitchen-sink.yaml",
    "test/fixtures/configs/odd-names.yaml",
  ])("%s: the model the synth hands to the generated files is the HCL parsed back", async (file) => {
    // GIVEN the stacks' own account of what they synthesize (what the synth uses), and the model read
    // from cdktf's resolved Terraform JSON
    const config = loadConfigFile(join(ROOT, file));
    const stacks = buildApp(config, join(fresh.dir, "..", "memory"), true).node.children.filter(
      (child) => child instanceof AccountStack,
    );
    const described = stacks.map((stack) => stack.synthesized);
    const fromJson = stacks.map((stack) => readStackConfiguration(stack.node.id, stack.toTerraform()));
    // WHEN the written, formatted HCL is parsed with HCL's own parser
    const written = await synthesizeToTemp(config);
    try {
      // THEN all three agree (the HCL is valid; formatting and unwrapping changed no meaning)
      expect(written.stacks).toEqual(fromJson);
      expect(written.stacks).toEqual(described);
    } finally {
      written.cleanup();
    }
  });

  test("has the provider, every example role and their attachments", () => {
    const production = readFileSync(join(fresh.dir, "stacks/production/cdk.tf"), "utf8");
    expect(production).toContain('resource "aws_iam_openid_connect_provider" "gitlab"');
    expect(production).toContain('resource "aws_iam_role" "gitlab-deploy-web"');
    expect(production).toContain('resource "aws_iam_role_policy_attachment" "gitlab-deploy-web"');
    expect(production).toContain('resource "aws_iam_role_policy" "gitlab-deploy-web_deploy-assets"');
    expect(production).toContain('data "aws_iam_policy_document" "gitlab-deploy-web_trust"');
    expect(production).toContain('output "role_arns"');
    expect(production).toContain('output "provider_arn"');
    const staging = readFileSync(join(fresh.dir, "stacks/staging/cdk.tf"), "utf8");
    expect(staging).toContain('resource "aws_iam_role" "gitlab-terraform-plan"');
  });

  test("is formatted as terraform fmt formats it (HCL's own formatter, hclwrite via @cdktf/hcl-tools)", async () => {
    // GIVEN every HCL file of a fresh synth
    const { format } = await import("@cdktf/hcl-tools");
    const files = filesUnder(fresh.dir).filter((file) => file.endsWith(".tf"));
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const hcl = readFileSync(join(fresh.dir, file), "utf8");
      // WHEN terraform fmt's formatter formats it THEN nothing changes
      expect({ file, hcl: await format(hcl) }).toEqual({ file, hcl });
    }
  });

  // terraform fmt itself checks the same synth in test/e2e/terraform-reads-hostile.test.ts.
});

describe("stack contents (cdktf Testing helpers)", () => {
  test("the AWS provider is pinned to the account and tags everything, but never names the deploy role", () => {
    // GIVEN an account with a deployRoleArn
    const config = parse(
      minimalConfig({}, { deployRoleArn: "arn:aws:iam::111111111111:role/deployer", tags: { team: "x" } }),
    );
    // WHEN its stack is synthesized
    const synth = synthStack(config);
    // THEN the provider is pinned to the account and tags everything
    expect(synth).toHaveProviderWithProperties(AwsProvider, {
      region: "eu-west-1",
      allowed_account_ids: ["111111111111"],
      default_tags: [{ tags: { "managed-by": "gitlab-oidc-aws", team: "x" } }],
    });
    // AND it has no assume_role: plan jobs run this same HCL, so the role comes from each job's profile
    const providers = (JSON.parse(synth) as { provider: { aws: Record<string, unknown>[] } }).provider.aws;
    expect(providers).toHaveLength(1);
    expect(providers[0]).not.toHaveProperty("assume_role");
    expect(synth).not.toContain("arn:aws:iam::111111111111:role/deployer");
  });

  test("provider: create makes the provider with the audiences and no thumbprints for gitlab.com", () => {
    const synth = synthStack(parse(minimalConfig()));
    expect(synth).toHaveResourceWithProperties(IamOpenidConnectProvider, {
      url: "https://gitlab.com",
      client_id_list: ["sts.amazonaws.com"],
    });
    expect(JSON.parse(synth).resource.aws_iam_openid_connect_provider.gitlab.thumbprint_list).toBeUndefined();
  });

  test("provider: existing looks the provider up instead of creating it", () => {
    const synth = synthStack(parse(minimalConfig({}, { provider: "existing" })));
    expect(synth).toHaveDataSourceWithProperties(DataAwsIamOpenidConnectProvider, {
      url: "https://gitlab.com",
    });
    expect(synth).not.toHaveResource(IamOpenidConnectProvider);
    expect(
      JSON.parse(synth).data.aws_iam_policy_document.deploy_trust.statement[0].principals[0].identifiers,
    ).toEqual(["${data.aws_iam_openid_connect_provider.gitlab.arn}"]);
  });

  test("pinned thumbprints are written lower-case", () => {
    const config = parse({
      ...minimalConfig(),
      gitlab: {
        url: "https://gitlab.example.com",
        subClaim: SUB_WITH_PROTECTION,
        thumbprints: ["AB".repeat(20)],
      },
    });
    expect(synthStack(config)).toHaveResourceWithProperties(IamOpenidConnectProvider, {
      thumbprint_list: ["ab".repeat(20)],
    });
  });

  test("thumbprints: auto reads the certificate over tls://, not https://", () => {
    const config = parse({
      ...minimalConfig(),
      gitlab: {
        url: "https://gitlab.example.com:8443/gitlab",
        subClaim: SUB_WITH_PROTECTION,
        thumbprints: "auto",
      },
    });
    const synth = synthStack(config);
    expect(synth).toHaveDataSourceWithProperties(DataTlsCertificate, {
      url: "tls://gitlab.example.com:8443",
    });
    expect(synth).toHaveResourceWithProperties(IamOpenidConnectProvider, {
      thumbprint_list: ["${data.tls_certificate.gitlab.certificates[0].sha1_fingerprint}"],
    });
    expect(JSON.parse(synth).terraform.required_providers.tls).toBeDefined();
  });

  test("GitLab-managed state uses the http backend with lock/unlock and no credentials", () => {
    const config = parse({
      ...minimalConfig({ audience: "gitlab-oidc-aws-deploy-production" }),
      state: { type: "gitlab", url: "https://gitlab.example.com", projectId: "acme/platform/oidc" },
    });
    const backend = JSON.parse(synthStack(config)).terraform.backend;
    const address =
      "https://gitlab.example.com/api/v4/projects/acme%2Fplatform%2Foidc/terraform/state/production";
    expect(backend).toEqual({
      http: {
        address,
        lock_address: `${address}/lock`,
        unlock_address: `${address}/lock`,
        lock_method: "POST",
        unlock_method: "DELETE",
        retry_wait_min: 5,
      },
    });
  });

  test("local state lives at the repository root, relative to the stack directory", () => {
    expect(JSON.parse(synthStack(parse(minimalConfig()))).terraform.backend).toEqual({
      local: { path: "../../../terraform.production.tfstate" },
    });
  });

  test("role settings come through", () => {
    const config = parse(
      minimalConfig({
        description: "Deploys",
        maxSessionDuration: 7200,
        path: "/gitlab/",
        permissionsBoundary: "arn:aws:iam::111111111111:policy/boundary",
        tags: { app: "web" },
      }),
    );
    expect(synthStack(config)).toHaveResourceWithProperties(IamRole, {
      name: "deploy",
      description: "Deploys",
      max_session_duration: 7200,
      path: "/gitlab/",
      permissions_boundary: "arn:aws:iam::111111111111:policy/boundary",
      tags: { app: "web" },
      assume_role_policy: "${data.aws_iam_policy_document.deploy_trust.json}",
    });
  });

  test("inline policies are structured (jsonencode), and IAM policy variables are escaped for Terraform", () => {
    const config = parse(
      minimalConfig({
        inlinePolicies: {
          own: {
            Version: "2012-10-17",
            Statement: [
              { Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::b/${aws:username}/*" },
            ],
          },
        },
      }),
    );
    const synth = synthStack(config);
    expect(synth).toHaveResourceWithProperties(IamRolePolicy, { name: "own" });
    const policy = JSON.parse(synth).resource.aws_iam_role_policy.deploy_own.policy as string;
    expect(policy).toMatch(/^\$\{jsonencode\(/);
    expect(policy).toContain("$${aws:username}");
  });
});

describe("IAM names Terraform does not allow in addresses", () => {
  test("become valid, stable addresses, and the outputs keep the real names", async () => {
    // GIVEN role and policy names with characters IAM allows and Terraform addresses do not
    const config = parse(
      minimalConfig(
        {},
        {
          roles: [
            { name: "ci@web.deploy+x=y,z", allow: [{ project: "acme/web", branches: ["main"] }] },
            {
              name: "9lives",
              allow: [{ project: "acme/web", tags: ["v*"] }],
              inlinePolicies: {
                "a.b": {
                  Version: "2012-10-17",
                  Statement: [{ Effect: "Allow", Action: "s3:*", Resource: "*" }],
                },
              },
            },
          ],
        },
      ),
    );
    // WHEN synthesized to HCL (which the synth parses back)
    const { dir, stacks, cleanup } = await synthesizeToTemp(config);
    try {
      // THEN the addresses are sanitized and the names are intact
      const hcl = readFileSync(join(dir, "stacks/production/cdk.tf"), "utf8");
      expect(hcl).toContain('resource "aws_iam_role" "ci_web_deploy_x_y_z"');
      expect(hcl).toContain('resource "aws_iam_role" "_9lives"');
      expect(hcl).toContain('resource "aws_iam_role_policy" "_9lives_a_b"');
      expect(hcl).toContain('"ci@web.deploy+x=y,z" = aws_iam_role.ci_web_deploy_x_y_z.arn');
      expect(stacks[0].roles.map((r) => r.name).sort()).toEqual(["9lives", "ci@web.deploy+x=y,z"]);
      expect(stacks[0].roles.find((r) => r.name === "9lives")?.inlinePolicyNames).toEqual(["a.b"]);
    } finally {
      cleanup();
    }
  });
});

describe("constructs fail fast with what to do", () => {
  test("a role construct refuses an unsafe grant even when built from code", () => {
    const app = Testing.app();
    const stack = new AccountStack(app, accountStackProps());
    const provider = stack.node.findChild("gitlab") as GitLabOidcProvider;
    expect(
      () =>
        new GitLabOidcRole(stack, "bad", {
          provider,
          name: "bad",
          allow: [{ project: "acme/*", branches: ["main"] }],
          context: {
            gitlab: { url: "https://gitlab.com", thumbprints: [] },
            limits: { trustPolicyLength: 2048, managedPoliciesPerRole: 10 },
            accountId: "111111111111",
            partition: "aws",
          },
        }),
    ).toThrow(
      new ConfigError([
        {
          path: ["roles", "bad", "allow", 0, "project"],
          message: "wildcards are not allowed in a project path; use group: acme",
        },
      ]).message,
    );
  });

  test("a provider construct refuses a URL with a trailing slash", () => {
    const stack = Testing.app();
    expect(() => new GitLabOidcProvider(stack, "gitlab", { url: "https://gitlab.com/" })).toThrow(
      /must not end with a slash/,
    );
  });
});

describe("writing the output", () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), "gitlab-oidc-out-"));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  test("JSON output replaces the HCL file instead of leaving both for Terraform to read", () => {
    // GIVEN an HCL synth in the output directory
    const outdir = join(root, "out");
    synthesize(exampleConfig(), { outdir, hcl: true });
    // WHEN a JSON synth (what `cdktf deploy` asks for) writes to the same directory
    synthesize(exampleConfig(), { outdir, hcl: false });
    // THEN only cdk.tf.json remains in each stack (metadata.json comes with HCL only)
    expect(readdirSync(join(outdir, "stacks/production")).sort()).toEqual(["cdk.tf.json"]);
  });

  test("stacks removed from the config are removed from the output", () => {
    const outdir = join(root, "out");
    synthesize(exampleConfig(), { outdir, hcl: true });
    const onlyProduction = exampleConfig();
    synthesize({ ...onlyProduction, accounts: [onlyProduction.accounts[0]] }, { outdir, hcl: true });
    expect(readdirSync(join(outdir, "stacks"))).toEqual(["production"]);
  });
});
