/**
 * State in S3, planned: the account stack and the state bucket's stack of test/fixtures/state/s3-state.yaml,
 * planned offline with the real AWS provider. Slow tier: two offline plans take ~40 s; the state
 * policies themselves are checked in-process (test/state-access.test.ts) and enforced by the S3 stand-in
 * end to end (test/e2e/s3-state.test.ts).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { lockFor, parse, synthesizeToTemp, type RawConfig } from "../support/configs";
import { awsProviderPlugin, planOffline } from "../support/offline-plan";
import { testWithOfflineAwsProvider } from "../support/tools";

let outdir: string;
let cleanupOut: () => void;

beforeAll(async () => {
  const raw = parseYaml(readFileSync("test/fixtures/state/s3-state.yaml", "utf8")) as RawConfig;
  const out = await synthesizeToTemp(parse(raw, lockFor(raw)));
  outdir = out.dir;
  cleanupOut = out.cleanup;
}, 60_000);

afterAll(() => cleanupOut?.());

testWithOfflineAwsProvider(
  "GIVEN state s3 WHEN the account stack and the bucket stack are planned with the real AWS provider THEN the state policies and the bucket's safeguards are in the plan",
  async (pluginDir) => {
    const plugin = awsProviderPlugin(pluginDir);
    const staging = await planOffline(join(outdir, "stacks", "staging"), plugin);
    const policies = (staging.json.resource_changes ?? []).filter((r) => r.type === "aws_iam_role_policy");
    expect(policies.map((p) => (p.change.after as { name: string }).name).sort()).toEqual([
      "gitlab-oidc-state-read",
      "gitlab-oidc-state-write",
    ]);
    const bucket = await planOffline(join(outdir, "stacks", "gitlab-oidc-state"), plugin);
    const types = (bucket.json.resource_changes ?? [])
      .map((r) => `${r.type}:${r.change.actions.join(",")}`)
      .sort();
    expect(types).toEqual([
      "aws_s3_bucket:create",
      "aws_s3_bucket_ownership_controls:create",
      "aws_s3_bucket_policy:create",
      "aws_s3_bucket_public_access_block:create",
      "aws_s3_bucket_server_side_encryption_configuration:create",
      "aws_s3_bucket_versioning:create",
    ]);
  },
  300_000,
);
