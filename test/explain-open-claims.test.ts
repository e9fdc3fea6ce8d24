/**
 * explain says what it does not know: a claim the question left open (protection, pipeline source,
 * runner) is not assumed, and a `terraform/` synthesized from another config or lock is named stale.
 * In-process, through runCli, with its exit codes.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { loadConfigFile, sourceDigests } from "../src/config/load";
import {
  EXIT_ALLOWED,
  EXIT_DENIED,
  EXIT_DEPENDS,
  EXIT_ERROR,
  EXIT_USAGE,
  runCli,
  USAGE,
} from "../src/explain/cli";
import type { ExplainResult } from "../src/explain/explain";
import { synthesize } from "../src/synth";
import { lockFor } from "./support/configs";

const allow = [
  // protected: true (the default): AWS checks ref_protected
  {
    project: "northwind/apps/web",
    branches: ["feature/*"],
    pipelineSources: ["merge_request_event", "push"],
    protected: true,
  },
];
const raw = {
  gitlab: { url: "https://gitlab.com" },
  accounts: [
    {
      name: "production",
      accountId: "111111111111",
      region: "eu-west-1",
      roles: [
        { name: "deploy", allow },
        { name: "reader", allow: [{ project: "northwind/apps/web", branches: ["*"], protected: false }] },
        {
          name: "scheduled",
          allow: [
            {
              project: "northwind/apps/web",
              branches: ["feature/*"],
              protected: false,
              pipelineSources: ["schedule", "web"],
            },
          ],
        },
      ],
    },
  ],
};

let root: string;
let dir: string;
let configFile: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "explain-open-"));
  configFile = join(root, "gitlab-oidc.yaml");
  writeFileSync(configFile, stringify(raw));
  writeFileSync(join(root, "gitlab-oidc.lock.yaml"), stringify(lockFor(raw)));
  dir = join(root, "terraform");
  synthesize(loadConfigFile(configFile), { outdir: dir, hcl: true, sources: sourceDigests(configFile) });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function explain(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const code = await runCli([...args, "--dir", dir], {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    readStdin: async () => "",
  });
  return { code, stdout, stderr };
}

const featureX = ["--project", "northwind/apps/web", "--branch", "feature/x"];

describe("a claim the question left open is not assumed", () => {
  test("the issue's question: protection unstated → ALLOWED only if feature/x is protected, exit 4", async () => {
    // GIVEN a merge-request pipeline on feature/x, protection not stated
    const mergeRequest = [...featureX, "--pipeline-source", "merge_request_event", "--role", "deploy"];
    const { code, stdout } = await explain(...mergeRequest);
    // THEN the answer depends on it, and says so
    expect(stdout).toMatch(/ALLOWED {2}deploy {2}only if branch feature\/x is protected/);
    expect(stdout).toMatch(/--protected or --unprotected decides it/);
    expect(stdout).toMatch(/^DEPENDS: /m);
    expect(code).toBe(EXIT_DEPENDS);
    // … and stated, it is one answer
    expect((await explain(...mergeRequest, "--unprotected")).code).toBe(EXIT_DENIED);
    expect((await explain(...mergeRequest, "--protected")).code).toBe(EXIT_ALLOWED);
  });

  test("two open claims: the condition names both", async () => {
    const { code, stdout } = await explain(...featureX, "--role", "deploy");
    expect(code).toBe(EXIT_DEPENDS);
    expect(stdout).toMatch(
      /only if branch feature\/x is protected and the pipeline source is merge_request_event or push/,
    );
  });

  test("the pipeline source open, protection stated: only if the pipeline source is schedule or web", async () => {
    const { code, stdout } = await explain(...featureX, "--role", "scheduled", "--unprotected");
    expect(stdout).toMatch(/ALLOWED {2}scheduled {2}only if the pipeline source is schedule or web/);
    expect(code).toBe(EXIT_DEPENDS);
  });

  test("a role that depends on no open claim gets a plain answer; any surely-allowed role makes exit 0", async () => {
    const { code, stdout } = await explain(...featureX);
    expect(stdout).toMatch(/ALLOWED {2}reader\n/);
    expect(stdout).toMatch(
      /ALLOWED: 1 of 3 roles would accept this job, 2 more only under the conditions above\./,
    );
    expect(code).toBe(EXIT_ALLOWED);
  });

  test("a denial whatever the open claims are is plain DENIED, exit 3", async () => {
    const { code, stdout } = await explain("--project", "northwind/apps/web", "--tag", "v1");
    expect(stdout).not.toMatch(/only if/);
    expect(code).toBe(EXIT_DENIED);
  });

  test("--sub leaves the same claims open; --json carries depends and dependsOn", async () => {
    const sub = "project_path:northwind/apps/web:ref_type:branch:ref:feature/x";
    const { code, stdout } = await explain("--sub", sub, "--role", "deploy", "--json");
    const result = JSON.parse(stdout) as ExplainResult;
    expect(code).toBe(EXIT_DEPENDS);
    expect(result).toMatchObject({
      allowed: false,
      depends: true,
      open: ["ref_protected", "pipeline_source", "runner_environment", "user_access_level"],
    });
    expect(result.roles[0].dependsOn).toMatchObject({ claims: ["ref_protected", "pipeline_source"] });
  });

  test("the exit codes are documented in --help", async () => {
    expect(USAGE).toMatch(/4 allowed only for some values of the\s+claims left open/);
    expect([EXIT_ALLOWED, EXIT_ERROR, EXIT_USAGE, EXIT_DENIED, EXIT_DEPENDS]).toEqual([0, 1, 2, 3, 4]);
  });
});

describe("a terraform/ older than the config or lock is named", () => {
  test("current: no warning", async () => {
    expect((await explain(...featureX, "--protected")).stdout).not.toMatch(/warning:/);
  });

  test("the config edited after the synth: a warning naming it, the answer still about terraform/", async () => {
    const text = stringify(raw);
    try {
      writeFileSync(configFile, `${text}# edited\n`);
      const { stdout, code } = await explain(...featureX, "--protected");
      expect(stdout).toMatch(
        /^warning: .*terraform\/ is older than .*gitlab-oidc\.yaml \(synthesized from other content\).*run npm run synth/m,
      );
      expect(code).toBe(EXIT_ALLOWED);
      const json = JSON.parse((await explain(...featureX, "--protected", "--json")).stdout) as {
        warnings: string[];
      };
      expect(json.warnings).toEqual([expect.stringMatching(/is older than/)]);
    } finally {
      writeFileSync(configFile, text);
    }
  });

  test("the lock changed after the synth: named too", async () => {
    const lockFile = join(root, "gitlab-oidc.lock.yaml");
    const text = stringify(lockFor(raw));
    try {
      writeFileSync(lockFile, `${text}# changed\n`);
      expect((await explain(...featureX, "--protected")).stdout).toMatch(
        /is older than .*gitlab-oidc\.lock\.yaml/,
      );
    } finally {
      writeFileSync(lockFile, text);
    }
  });
});

describe("what explain prints is escaped", () => {
  test("a sub with escape sequences reaches the terminal as \\u001b…, in text and in JSON (still valid JSON)", async () => {
    const sub = "project_path:northwind/apps/web\u001b]0;owned\u0007:ref_type:branch:ref:x\u009b2J";
    const text = await explain("--sub", sub, "--protected");
    // eslint-disable-next-line no-control-regex -- control characters are what must not appear
    expect(text.stdout + text.stderr).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f]/);
    expect(text.stdout).toContain(String.raw`web\u001b]0;owned\u0007:ref_type`);
    const json = await explain("--sub", sub, "--protected", "--json");
    expect((JSON.parse(json.stdout) as ExplainResult).sub).toBe(sub);
    // eslint-disable-next-line no-control-regex -- control characters are what must not appear
    expect(json.stdout).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f]/);
  });
});
