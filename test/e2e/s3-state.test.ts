/**
 * State in S3, end to end: the staging stack's generated backend block, run by the real `terraform`
 * (init, plan, apply) against the S3 stand-in on 127.0.0.1, which enforces the generated bucket policy
 * and inline policies. The stack's resources are swapped for a `terraform_data` (no provider needed):
 * what is under test is who may read and write the state, not IAM's resources. The plan of both stacks
 * with the real AWS provider is in test/slow/s3-state-plan.test.ts (one offline plan: ~40 s).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { lockFor, parse, synthesizeToTemp, type RawConfig } from "../support/configs";
import { runAsync } from "../support/run";
import { startS3StandIn, type S3StandIn } from "../support/s3-stand-in";
import { BUCKET_ACCOUNT, deployedStatePolicies, principals } from "../support/state-policies";
import { TERRAFORM, testWithTool } from "../support/tools";

const KEYS = {
  planner: { id: "AKIASTAGINGPLANNER01", arn: "arn:aws:iam::222222222222:role/gitlab/platform-planner" },
  deployer: { id: "AKIASTAGINGDEPLOYER1", arn: "arn:aws:iam::222222222222:role/gitlab/platform-deployer" },
  // Another stack's writer, an administrator of the bucket's account.
  otherWriter: { id: "AKIAPRODDEPLOYER0001", arn: "arn:aws:iam::111111111111:role/gitlab/platform-deployer" },
  outsider: { id: "AKIAOUTSIDERADMIN001", arn: "arn:aws:iam::333333333333:role/outsider-admin" },
} as const;

let root: string;
let stack: string;
let s3: S3StandIn;
let backendBlock: string;
let cleanupOut: () => void;

beforeAll(async () => {
  const raw = parseYaml(readFileSync("test/fixtures/state/s3-state.yaml", "utf8")) as RawConfig;
  const out = await synthesizeToTemp(parse(raw, lockFor(raw)));
  cleanupOut = out.cleanup;
  {
    const hcl = readFileSync(join(out.dir, "stacks", "staging", "cdk.tf"), "utf8");
    backendBlock = /backend "s3" \{[^}]*\}/.exec(hcl)![0];
    const deployed = await deployedStatePolicies(out.dir);
    const who = principals(deployed);
    s3 = await startS3StandIn({
      bucket: "acme-gitlab-oidc-state",
      bucketAccount: BUCKET_ACCOUNT,
      bucketPolicy: deployed.bucketPolicy,
      identities: new Map(
        Object.values(KEYS).map((k) => [k.id, { arn: k.arn, identityPolicies: who.get(k.arn)! }]),
      ),
    });
  }
  root = mkdtempSync(join(tmpdir(), "s3-state-"));
  stack = join(root, "staging");
  mkdirSync(stack);
  writeFileSync(
    join(stack, "main.tf"),
    `terraform {\n  ${backendBlock}\n}\nvariable "v" {\n  type = string\n}\nresource "terraform_data" "marker" {\n  input = var.v\n}\n`,
  );
  // Only where to find S3 (the stand-in) and what it cannot do: the committed backend stays as it is.
  writeFileSync(
    join(root, "stand-in.s3.tfbackend"),
    [
      `endpoints = { s3 = "${s3.endpoint}" }`,
      "use_path_style = true",
      "skip_credentials_validation = true",
      "skip_requesting_account_id = true",
      "skip_metadata_api_check = true",
      "skip_region_validation = true",
      "skip_s3_checksum = true",
      "",
    ].join("\n"),
  );
}, 60_000);

afterAll(async () => {
  await s3?.close();
  cleanupOut?.();
  if (root) rmSync(root, { recursive: true, force: true });
});

function terraform(who: keyof typeof KEYS, args: string[]) {
  const home = join(root, `home-${who}`);
  mkdirSync(home, { recursive: true });
  return runAsync("terraform", args, {
    cwd: stack,
    timeoutMs: 60_000,
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: home,
      AWS_ACCESS_KEY_ID: KEYS[who].id,
      AWS_SECRET_ACCESS_KEY: "stand-in-secret",
      AWS_CONFIG_FILE: "/dev/null",
      AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
      AWS_EC2_METADATA_DISABLED: "true",
      TF_IN_AUTOMATION: "1",
      TF_INPUT: "0",
      TF_DATA_DIR: join(root, `.terraform-${who}`),
    },
  });
}

async function init(who: keyof typeof KEYS) {
  return terraform(who, [
    "init",
    "-input=false",
    "-reconfigure",
    `-backend-config=${join(root, "stand-in.s3.tfbackend")}`,
  ]);
}

const STATE = "gitlab-oidc-aws/staging.tfstate";

testWithTool(
  TERRAFORM,
  "GIVEN the generated S3 backend WHEN the planner, the deployer and others run terraform THEN only the deployer writes state, the planner reads it, others can do neither",
  async () => {
    // The planner: init and plan (no lock) work; apply needs the lock and the state write, and is refused.
    expect((await init("planner")).status).toBe(0);
    const plan = await terraform("planner", [
      "plan",
      "-input=false",
      "-lock=false",
      "-var",
      "v=one",
      "-out=plan.tfplan",
    ]);
    expect(plan.status).toBe(0);
    const plannerApply = await terraform("planner", [
      "apply",
      "-input=false",
      "-var",
      "v=one",
      "-auto-approve",
    ]);
    expect(plannerApply.status).not.toBe(0);
    expect(plannerApply.stderr + plannerApply.stdout).toMatch(/AccessDenied|403/);
    expect(s3.objects.has(STATE)).toBe(false);

    // The deployer: lock, write, unlock.
    expect((await init("deployer")).status).toBe(0);
    const apply = await terraform("deployer", ["apply", "-input=false", "-var", "v=one", "-auto-approve"]);
    expect(apply.stderr).toBe("");
    expect(apply.status).toBe(0);
    expect(JSON.parse(s3.objects.get(STATE)!.toString("utf8"))).toMatchObject({
      resources: [expect.objectContaining({ type: "terraform_data" })],
    });
    expect(s3.objects.has(`${STATE}.tflock`)).toBe(false); // released
    const writes = s3.requests.filter((r) => r.action === "s3:PutObject" && r.status === 200);
    expect(new Set(writes.map((w) => w.principal))).toEqual(new Set([KEYS.deployer.arn]));
    expect(writes.map((w) => w.key)).toEqual(expect.arrayContaining([STATE, `${STATE}.tflock`]));

    // The planner now reads the deployed state: no changes.
    const replan = await terraform("planner", [
      "plan",
      "-input=false",
      "-lock=false",
      "-var",
      "v=one",
      "-detailed-exitcode",
    ]);
    expect(replan.status).toBe(0);

    // Another stack's writer (an administrator of the bucket's account) reads, but cannot write.
    expect((await init("otherWriter")).status).toBe(0);
    const other = await terraform("otherWriter", ["apply", "-input=false", "-var", "v=two", "-auto-approve"]);
    expect(other.status).not.toBe(0);
    expect(other.stderr + other.stdout).toMatch(/AccessDenied|403/);

    // An administrator of an account the bucket does not name gets nothing, not even the list.
    const outsider = await init("outsider");
    expect(outsider.status).not.toBe(0);
    expect(outsider.stderr + outsider.stdout).toMatch(/AccessDenied|403/);

    const state = JSON.parse(s3.objects.get(STATE)!.toString("utf8")) as {
      resources: { instances: { attributes: { input: { value: string } } }[] }[];
    };
    expect(state.resources[0]!.instances[0]!.attributes.input.value).toBe("one");
  },
  240_000,
);
