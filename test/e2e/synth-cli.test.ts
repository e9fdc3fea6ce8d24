/**
 * The main job as users start it (`npm run synth` runs node dist/main.js): exit codes, messages, and
 * cdktf's environment.
 */
import {
  copyFileSync,
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
import { generateConfig, generateLock } from "../../bench/generate";
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

  test("a second run reuses what is unchanged, writes what a full synth writes, and prints no progress off a terminal", () => {
    // GIVEN a generated config of 3 accounts × 34 roles (enough for progress on a terminal) and its lock
    const config = join(root, "scale.yaml");
    writeFileSync(config, generateConfig(3, 34));
    writeFileSync(join(root, "scale.lock.yaml"), generateLock(3, 34));
    const outdir = join(root, "out");
    const synth = (out: string, extra: NodeJS.ProcessEnv = {}) =>
      runOk(process.execPath, [join(ROOT, "dist/main.js")], {
        env: { ...process.env, GITLAB_OIDC_CONFIG: config, CDKTF_OUTDIR: out, ...extra },
        timeoutMs: 50_000,
      });
    // WHEN the main job runs with stderr not a terminal
    const first = synth(outdir);
    // THEN it prints its one line on stdout and nothing on stderr
    expect(first.stdout).toMatch(
      /^Synthesized 3 stack\(s\), 102 role\(s\) from .* \(acct-001, acct-002, acct-003\)\n$/,
    );
    expect(first.stderr).toBe("");
    // WHEN it runs again on the same config
    // THEN it says the output is unchanged
    expect(synth(outdir).stdout).toMatch(/; unchanged since the last synth\n$/);
    // WHEN one role of the second account changes
    writeFileSync(
      config,
      readFileSync(config, "utf8").replace(
        "description: Deploys svc-001 of acme/team-01",
        "description: Deploys svc-001 (edited) of acme/team-01",
      ),
    );
    // THEN the other two stacks are reused, and the output is what a full synth writes
    expect(synth(outdir).stdout).toMatch(/; 2 unchanged stack\(s\) reused\n$/);
    const full = join(root, "full");
    synth(full, { GITLAB_OIDC_FULL_SYNTH: "1" });
    expect(filesUnder(outdir)).toEqual(filesUnder(full));
    for (const file of filesUnder(full)) {
      expect({ file, content: readFileSync(join(outdir, file), "utf8") }).toEqual({
        file,
        content: readFileSync(join(full, file), "utf8"),
      });
    }
    expect(readFileSync(join(outdir, "stacks/acct-002/cdk.tf"), "utf8")).toContain("(edited)");
  }, 240_000);

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
    // GIVEN the example with its production account adopted, and a PATH without terraform
    const dir = join(root, "adopt");
    mkdirSync(dir);
    const example = readFileSync(join(ROOT, "gitlab-oidc.yaml"), "utf8");
    expect(example).toContain("    provider: create\n");
    writeFileSync(
      join(dir, "gitlab-oidc.yaml"),
      example.replace("    provider: create\n", "    provider: create\n    adopt: true\n"),
    );
    copyFileSync(join(ROOT, "gitlab-oidc.lock.yaml"), join(dir, "gitlab-oidc.lock.yaml"));
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
