/**
 * A team's extension, planned: the main job synthesizes test/fixtures/extension/ (a config with a
 * `gitlab-oidc.extend.ts` beside it, as a team's repository has: docs/layout.md) and the production
 * stack, the extension's resources in it, plans offline with the real AWS provider. Slow tier: a plan
 * takes ~4 s of CPU; the team's flow around it (npm run init, the extension in the output, merging
 * version N+1) is test/e2e/team-repo.test.ts.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TOOL_ROOT } from "../support/example";
import { awsProviderPlugin, planOffline } from "../support/offline-plan";
import { runOk } from "../support/run";
import { testWithOfflineAwsProvider } from "../support/tools";

let outdir: string;
beforeAll(() => {
  outdir = mkdtempSync(join(tmpdir(), "extension-plan-"));
  runOk(process.execPath, [join(TOOL_ROOT, "dist", "main.js")], {
    cwd: TOOL_ROOT,
    env: {
      ...process.env,
      GITLAB_OIDC_CONFIG: join(TOOL_ROOT, "test", "fixtures", "extension", "gitlab-oidc.yaml"),
      CDKTF_OUTDIR: outdir,
    },
    timeoutMs: 60_000,
  });
}, 90_000);
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

testWithOfflineAwsProvider(
  "GIVEN a config with an extension WHEN its production stack is planned with the real AWS provider THEN the extension's policy and role are among what it creates",
  async (pluginDir) => {
    const plan = await planOffline(join(outdir, "stacks", "production"), awsProviderPlugin(pluginDir));
    expect(plan.text).toContain("aws_iam_policy.gitlab-boundary will be created");
    expect(plan.text).toContain("aws_iam_role.gitlab-bounded-assets will be created");
  },
  180_000,
);
