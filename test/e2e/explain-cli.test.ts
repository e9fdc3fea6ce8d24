/**
 * The `explain` CLI: arguments, output and exit codes, on stacks synthesized from a config and read
 * back. One real start as `npm run explain` runs it (node dist/src/explain/cli.js); the other cases
 * call its exported entry (runCli) in process, with the same arguments, input and environment.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ExplainResult } from "../../src/explain/explain";
import { formatSubject } from "../../src/model/subjects";
import {
  explainInProcess as explain,
  makeTokens,
  runCli,
  synthesizeFixture,
  type ExplainFixture,
} from "../support/explain-fixture";

let fixture: ExplainFixture;
/** A release-branch pipeline of acme/web; the same job with an audience no role accepts. */
let releaseToken: string;
let wrongAudienceToken: string;

beforeAll(async () => {
  fixture = await synthesizeFixture();
  [releaseToken, wrongAudienceToken] = makeTokens([
    {
      iss: "https://gitlab.com",
      sub: formatSubject("acme/web", "branch", "release/2.0"),
      aud: "sts.amazonaws.com",
      project_path: "acme/web",
      project_id: String(fixture.config.lock?.projects["acme/web"].id),
      namespace_id: String(fixture.config.lock?.projects["acme/web"].namespaceId),
      ref_protected: "true",
    },
    {
      iss: "https://gitlab.com",
      sub: formatSubject("acme/web", "branch", "main"),
      aud: ["https://gitlab.com"],
    },
  ]);
}, 60_000);
afterAll(() => fixture?.cleanup());

const tag = (project: string, name: string) => formatSubject(project, "tag", name);

describe("the CLI (one start of node dist/src/explain/cli.js, the rest in process)", () => {
  // Reading HCL takes a WebAssembly parser, a second or more per process: one run reads the HCL, the
  // others the same config synthesized as cdk.tf.json.
  jest.setTimeout(60_000);
  const dir = () => ["--dir", fixture.jsonOutdir];

  test("exit 0 and a readable ALLOWED report when a role allows the pipeline (HCL stacks)", () => {
    const { code, stdout } = runCli(["--project", "acme/web", "--branch", "main", "--dir", fixture.outdir]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/ALLOWED {2}deploy/);
    expect(stdout).toMatch(/matched Project\d+Exact: project acme\/web, branch main/);
    expect(stdout).toMatch(/DENIED {3}admin/);
  });

  test("exit 3 when denied, with the closest grant and what differed", async () => {
    const { code, stdout } = await explain([
      "--project",
      "acme/platform-evil/x",
      "--tag",
      "v1.0.0",
      ...dir(),
    ]);
    expect(code).toBe(3);
    expect(stdout).toMatch(/closest Group\d+Wildcard: group acme\/platform/);
    expect(stdout).toMatch(/- project: .*sibling namespace/);
    expect(stdout).toMatch(/^DENIED: 0 of 3 roles/m);
  });

  test("--role / --account filter, and the exit code follows the selected roles only", async () => {
    const sub = ["--project", "acme/web", "--branch", "feature/x", ...dir()];
    const preview = await explain([...sub, "--role", "preview", "--account", "222222222222"]);
    expect(preview.code).toBe(0);
    expect(preview.stdout).not.toMatch(/deploy|admin/);
    const unknown = await explain([...sub, "--role", "nope"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/no role "nope"/);
  });

  test("--json prints the result for machines", async () => {
    const { code, stdout } = await explain([
      "--sub",
      tag("acme/web", "main"),
      "--role",
      "deploy",
      "--json",
      ...dir(),
    ]);
    expect(code).toBe(3);
    const result = JSON.parse(stdout) as ExplainResult;
    expect(result.allowed).toBe(false);
    expect(result.roles).toHaveLength(1);
    expect(result.roles[0].closest?.differences).toEqual([
      expect.objectContaining({ part: "refType", expected: "branch", actual: "tag" }),
    ]);
  });

  test("--token FILE and --token - read a JWT; the signature is never printed", async () => {
    // GIVEN a signed token for a release branch of acme/web, in a file and on stdin
    const token = releaseToken;
    const file = join(fixture.root, "token.jwt");
    writeFileSync(file, token);
    const signature = token.split(".")[2];
    // WHEN explained from the file
    const text = await explain(["--token", file, ...dir()]);
    // THEN the claims are shown, deploy is allowed, and the signature appears nowhere
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/ref_protected: "true"/);
    expect(text.stdout).toMatch(/project_id: "\d+"/);
    expect(text.stdout).toMatch(/ALLOWED {2}deploy/);
    expect(text.stdout + text.stderr).not.toContain(signature);
    // … and from stdin with --json: the token's claims come along, still without the signature
    const json = await explain(["--token", "-", "--json", ...dir()], { input: token });
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout).token.claims.project_path).toBe("acme/web");
    expect(json.stdout + json.stderr).not.toContain(signature);
  });

  test("a token's aud decides: a token for another audience is denied on the audience", async () => {
    const { code, stdout } = await explain(["--token", "-", "--role", "deploy", "--json", ...dir()], {
      input: wrongAudienceToken,
    });
    expect(code).toBe(3);
    expect(JSON.parse(stdout).roles[0].closest.differences[0].part).toBe("audience");
  });

  test("--unprotected, --project-id and --pipeline-source state the claims AWS checks on gitlab.com", async () => {
    const job = ["--project", "acme/web", "--branch", "main", "--role", "deploy", ...dir()];
    // GIVEN the job on main, as the lock knows acme/web, protection not stated: allowed only if protected (exit 4)
    const open = await explain(job);
    expect(open.code).toBe(4);
    expect(open.stdout).toMatch(
      /ALLOWED {2}deploy {2}\(path \/gitlab\/\) {2}only if branch main is protected/,
    );
    // … and stated protected: allowed
    expect((await explain([...job, "--protected"])).code).toBe(0);
    // WHEN the branch is not protected THEN it is denied, and the report says to protect it
    const unprotected = await explain([...job, "--unprotected"]);
    expect(unprotected.code).toBe(3);
    expect(unprotected.stdout).toMatch(/gitlab\.com:ref_protected "false".*not protected/);
    // WHEN the path now belongs to another project (a recycled path) THEN it is denied on the project ID
    const recycled = await explain([...job, "--protected", "--project-id", "424242"]);
    expect(recycled.code).toBe(3);
    expect(recycled.stdout).toMatch(/gitlab\.com:project_id "424242".*recycled/);
    expect((await explain([...job, "--project-id", "x"])).code).toBe(2);
  });

  test("a terraform/ older than the config is named stale in the answer", async () => {
    // GIVEN the config edited after the synth (its digest no longer the recorded one)
    const text = readFileSync(fixture.configFile, "utf8");
    try {
      writeFileSync(fixture.configFile, `${text}# edited after the synth\n`);
      // WHEN explained against the HCL synthesized before
      const { code, stdout } = await explain([
        "--project",
        "acme/web",
        "--branch",
        "main",
        "--protected",
        ...dir(),
      ]);
      // THEN the answer comes with a warning naming the config and the fix
      expect(stdout).toMatch(
        /^warning: .*terraform-json\/ is older than .*gitlab-oidc\.yaml.*npm run synth/m,
      );
      expect(code).toBe(0);
    } finally {
      writeFileSync(fixture.configFile, text);
    }
  });

  test("usage errors exit 2 with a clear message: unknown flag, bad token, missing job", async () => {
    const unknown = await explain(["--sub", "x", "--verbose", ...dir()]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/Unknown option '--verbose'/);
    expect(unknown.stderr).toMatch(/Usage: npm run explain/);
    expect((await explain(["--token", "-", ...dir()], { input: "garbage" })).code).toBe(2);
    expect((await explain(["--token", join(fixture.root, "missing.jwt"), ...dir()])).code).toBe(2);
    expect((await explain(dir())).code).toBe(2);
    expect((await explain(["--help"])).stdout).toMatch(/Exit codes: 0/);
  });

  test("a --dir without manifest.json is answered from a scratch synth; the folder is not written", async () => {
    // GIVEN an existing folder holding files named like the synth's, and the config named by GITLAB_OIDC_CONFIG
    const folder = mkdtempSync(join(tmpdir(), "explain-folder-"));
    try {
      const mine = { "ACCESS.md": "mine\n", "stacks.gitlab-ci.yml": "mine: {}\n", "notes.txt": "x\n" };
      for (const [name, text] of Object.entries(mine)) writeFileSync(join(folder, name), text);
      // WHEN explain runs against it
      const { code, stdout, stderr } = await explain(
        ["--project", "acme/web", "--branch", "main", "--dir", folder],
        { env: { GITLAB_OIDC_CONFIG: fixture.configFile } },
      );
      // THEN it says where the answer comes from, answers, and the folder is as it was
      expect(stderr).toMatch(/manifest\.json is missing; answering from .*scratch directory/);
      expect(code).toBe(0);
      expect(stdout).toMatch(/ALLOWED {2}deploy/);
      expect(readdirSync(folder).sort()).toEqual(Object.keys(mine).sort());
      for (const [name, text] of Object.entries(mine))
        expect(readFileSync(join(folder, name), "utf8")).toBe(text);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  }, 60_000);
});
