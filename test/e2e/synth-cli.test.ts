/**
 * The main job as users start it (`npm run synth` runs node dist/main.js): exit codes, messages, and
 * cdktf's environment.
 */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { filesUnder } from "../support/configs";
import { run, runOk } from "../support/run";

const ROOT = join(__dirname, "..", "..");

describe("npm run synth (node dist/main.js)", () => {
  let root: string;
  beforeAll(() => runOk(process.execPath, [join(ROOT, "scripts/build.mjs")], { timeoutMs: 25_000 }));
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), "gitlab-oidc-cli-"));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  test("refuses a bad config with one line per problem, exit 1, and writes nothing", () => {
    // GIVEN an existing output directory and a config with two problems
    const outdir = join(root, "out");
    mkdirSync(join(outdir, "stacks", "production"), { recursive: true });
    writeFileSync(join(outdir, "stacks", "production", "cdk.tf"), "# reviewed before\n");
    const config = join(root, "bad.yaml");
    writeFileSync(
      config,
      readFileSync(join(ROOT, "gitlab-oidc.yaml"), "utf8")
        .replace("project: acme/web", "project: acme/*")
        .replace('accountId: "222222222222"', "accountId: 222222222222"),
    );
    // WHEN the main job runs on it
    const synth = run(process.execPath, [join(ROOT, "dist/main.js")], {
      env: { ...process.env, GITLAB_OIDC_CONFIG: config, CDKTF_OUTDIR: outdir },
      timeoutMs: 25_000,
    });
    // THEN it fails, names each problem with file, line and field, and leaves the output untouched
    expect(synth.status).toBe(1);
    const lines = synth.stderr.trim().split("\n");
    expect(lines).toEqual([
      expect.stringMatching(
        /bad\.yaml:\d+:\d+: accounts\[0\]\.roles\[0\]\.allow\[0\]\.project: wildcards are not allowed in a project path; use group: acme$/,
      ),
      expect.stringMatching(
        /bad\.yaml:\d+:\d+: accounts\[1\]\.accountId: accountId must be a quoted 12-digit string/,
      ),
      expect.stringMatching(/^2 problems in .*bad\.yaml; nothing was written\.$/),
    ]);
    expect(readFileSync(join(outdir, "stacks", "production", "cdk.tf"), "utf8")).toBe("# reviewed before\n");
    expect(filesUnder(outdir)).toEqual(["stacks/production/cdk.tf"]);
    expect(readdirSync(root).filter((f) => f.includes("synth-"))).toEqual([]);
  });

  test("honours CDKTF_OUTDIR and SYNTH_HCL_OUTPUT", () => {
    const outdir = join(root, "cdktf.out");
    const synth = run(process.execPath, [join(ROOT, "dist/main.js")], {
      cwd: ROOT,
      env: { ...process.env, CDKTF_OUTDIR: outdir, SYNTH_HCL_OUTPUT: "false" },
      timeoutMs: 25_000,
    });
    expect(synth.stderr).toBe("");
    expect(synth.status).toBe(0);
    expect(existsSync(join(outdir, "stacks/production/cdk.tf.json"))).toBe(true);
    expect(existsSync(join(outdir, "stacks/production/cdk.tf"))).toBe(false);
  });

  test("an empty SYNTH_HCL_OUTPUT means the default, HCL, not a crash", () => {
    // GIVEN the variable set but empty, as a CI template might leave it
    const outdir = join(root, "empty-setting");
    // WHEN the main job runs
    const synth = run(process.execPath, [join(ROOT, "dist/main.js")], {
      cwd: ROOT,
      env: { ...process.env, CDKTF_OUTDIR: outdir, SYNTH_HCL_OUTPUT: "" },
      timeoutMs: 25_000,
    });
    // THEN it writes formatted HCL, as without the variable
    expect(synth.stderr).toBe("");
    expect(synth.status).toBe(0);
    expect(readFileSync(join(outdir, "stacks/production/cdk.tf"), "utf8")).toBe(
      readFileSync(join(ROOT, "terraform/stacks/production/cdk.tf"), "utf8"),
    );
    expect(existsSync(join(outdir, "stacks/production/cdk.tf.json"))).toBe(false);
  });

  test("adopt: true synthesizes where terraform is not installed (cdktf's `terraform version` probe is not run)", () => {
    // GIVEN an adopted account (a fixture-free config, never the team's files), and a PATH without terraform
    const dir = join(root, "adopt");
    mkdirSync(dir);
    writeFileSync(
      join(dir, "gitlab-oidc.yaml"),
      [
        'gitlab: { url: "https://gitlab.example.com" }',
        "accounts:",
        "  - name: production",
        '    accountId: "111111111111"',
        "    region: eu-west-1",
        "    adopt: true",
        "    roles:",
        "      - name: deploy",
        '        managedPolicyArns: ["arn:aws:iam::aws:policy/ReadOnlyAccess"]',
        "        inlinePolicies: {}",
        "        allow: [{ project: acme/web, branches: [main], protected: false }]",
        "",
      ].join("\n"),
    );
    const emptyBin = join(dir, "bin");
    mkdirSync(emptyBin);
    // WHEN the main job runs
    const synth = run(process.execPath, [join(ROOT, "dist/main.js")], {
      cwd: dir,
      env: {
        ...process.env,
        PATH: emptyBin,
        GITLAB_OIDC_CONFIG: join(dir, "gitlab-oidc.yaml"),
        CDKTF_OUTDIR: join(dir, "out"),
      },
      timeoutMs: 25_000,
    });
    // THEN it writes the import blocks
    expect(synth.stderr).toBe("");
    expect(synth.status).toBe(0);
    expect(readFileSync(join(dir, "out/stacks/production/cdk.tf"), "utf8")).toMatch(/^import \{/m);
  });
});
