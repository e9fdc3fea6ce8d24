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
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { stringify } from "yaml";
import { generateConfig, generateLock } from "../../bench/generate";
import { PARSE_CACHE_SUBDIR, parseCacheFile } from "../../src/config/parse-cache";
import { defaultSynthCacheDir } from "../../src/synth-cache";
import { filesUnder, minimalConfig } from "../support/configs";
import { run, runOk } from "../support/run";
import { EXAMPLE_FIXTURE, exampleText, synthesizedExample } from "../support/example";

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
      exampleText()
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
    // AND it kept each account's parsed item for the next run (src/config/parse-cache.ts)
    const parseCache = parseCacheFile(join(dirname(defaultSynthCacheDir()!), PARSE_CACHE_SUBDIR), config);
    expect(existsSync(parseCache)).toBe(true);
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
    // WHEN the first stack's provider lists the GitLab URL as a client ID (as outputs did before the
    // audience default moved; edited here) and a role of the second account changes again
    const firstStack = join(outdir, "stacks/acct-001/cdk.tf");
    writeFileSync(
      firstStack,
      readFileSync(firstStack, "utf8").replace(
        '"sts.amazonaws.com"\n',
        '"sts.amazonaws.com",\n    "https://gitlab.com"\n',
      ),
    );
    writeFileSync(config, readFileSync(config, "utf8").replace("(edited)", "(edited again)"));
    // THEN the first stack is synthesized again (its file changed), and the main job warns that its
    // provider would stop accepting that audience: the earlier client IDs of every stack not reused
    // are read
    const warned = synth(outdir);
    expect(warned.stdout).toMatch(/; 1 unchanged stack\(s\) reused\n$/);
    expect(warned.stderr).toMatch(
      /^WARNING: gitlab\.audience now defaults to sts\.amazonaws\.com .* stack acct-001 /,
    );
    expect(warned.stderr).not.toMatch(/acct-00[23]/);
    rmSync(parseCache, { force: true });
  }, 240_000);

  test("honours CDKTF_OUTDIR and SYNTH_HCL_OUTPUT", () => {
    const outdir = join(root, "cdktf.out");
    const synth = run(process.execPath, [join(ROOT, "dist/main.js")], {
      cwd: ROOT,
      env: {
        ...process.env,
        GITLAB_OIDC_CONFIG: EXAMPLE_FIXTURE,
        CDKTF_OUTDIR: outdir,
        SYNTH_HCL_OUTPUT: "false",
      },
      timeoutMs: 25_000,
    });
    expect(synth.stderr).toBe("");
    expect(synth.status).toBe(0);
    expect(existsSync(join(outdir, "stacks/production/cdk.tf.json"))).toBe(true);
    expect(existsSync(join(outdir, "stacks/production/cdk.tf"))).toBe(false);
  });

  test("an empty SYNTH_HCL_OUTPUT means the default, HCL, not a crash", async () => {
    // GIVEN the variable set but empty, as a CI template might leave it
    const outdir = join(root, "empty-setting");
    // WHEN the main job runs
    const synth = run(process.execPath, [join(ROOT, "dist/main.js")], {
      cwd: ROOT,
      env: {
        ...process.env,
        GITLAB_OIDC_CONFIG: EXAMPLE_FIXTURE,
        CDKTF_OUTDIR: outdir,
        SYNTH_HCL_OUTPUT: "",
      },
      timeoutMs: 25_000,
    });
    // THEN it writes formatted HCL, as without the variable
    expect(synth.stderr).toBe("");
    expect(synth.status).toBe(0);
    expect(readFileSync(join(outdir, "stacks/production/cdk.tf"), "utf8")).toBe(
      readFileSync(join((await synthesizedExample()).dir, "stacks/production/cdk.tf"), "utf8"),
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

  test("npm run synth answers each with problem lines and exit 1, never a stack trace", () => {
    // GIVEN the built main job and three hostile documents
    const dir = mkdtempSync(join(tmpdir(), "gitlab-oidc-yaml-"));
    try {
      const documents = {
        laughs: `a: &a [x, x, x, x, x, x, x, x, x, x]\n${Array.from(
          { length: 9 },
          (_, i) =>
            `b${i}: &b${i} [${Array(10)
              .fill(i === 0 ? "*a" : `*b${i - 1}`)
              .join(", ")}]`,
        ).join("\n")}\n`,
        deep: `accounts: ${"[".repeat(100_000)}${"]".repeat(100_000)}\n`,
        proto: `${stringify(minimalConfig())}__proto__: { polluted: true }\n`,
      };
      for (const [name, text] of Object.entries(documents)) {
        writeFileSync(join(dir, `${name}.yaml`), text);
        // WHEN the main job reads it
        const synth = run(process.execPath, [join(ROOT, "dist/main.js")], {
          cwd: dir,
          env: {
            ...process.env,
            GITLAB_OIDC_CONFIG: join(dir, `${name}.yaml`),
            CDKTF_OUTDIR: join(dir, "out"),
          },
        });
        // THEN it exits 1 with problem lines only, and writes nothing
        expect({ name, status: synth.status }).toEqual({ name, status: 1 });
        expect(synth.stderr).toMatch(/nothing was written\.\n$/);
        expect(synth.stderr).not.toMatch(/^\s+at /m);
        expect(existsSync(join(dir, "out"))).toBe(false);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("refusals about the output and the config are messages, exit 1, no trace; nothing outside is deleted", () => {
    // GIVEN the odd-names fixture synthesized once
    const config = join(root, "gitlab-oidc.yaml");
    copyFileSync(join(ROOT, "test/fixtures/configs/odd-names.yaml"), config);
    copyFileSync(
      join(ROOT, "test/fixtures/configs/odd-names.lock.yaml"),
      join(root, "gitlab-oidc.lock.yaml"),
    );
    const outdir = join(root, "out");
    const synth = () =>
      run(process.execPath, [join(ROOT, "dist/main.js")], {
        env: { ...process.env, GITLAB_OIDC_CONFIG: config, CDKTF_OUTDIR: outdir },
        timeoutMs: 25_000,
      });
    expect(synth().status).toBe(0);
    const record = join(outdir, "synthesized-files.json");
    // WHEN its record lists a file under a symlink to a folder outside (the issue's reproduction)
    mkdirSync(join(root, "victim"));
    writeFileSync(join(root, "victim", "important.txt"), "precious\n");
    symlinkSync("../../victim", join(outdir, "stacks", "evil"));
    const files = (JSON.parse(readFileSync(record, "utf8")) as { files: string[] }).files;
    writeFileSync(record, JSON.stringify({ files: [...files, "stacks/evil/important.txt"] }));
    const outside = synth();
    // THEN exit 1, one message naming the entry, no trace, the victim untouched
    expect(outside.status).toBe(1);
    expect(outside.stderr).toMatch(/refusing to delete stacks\/evil\/important\.txt .*symlink/);
    expect(outside.stderr).not.toMatch(/^\s+at /m);
    expect(readFileSync(join(root, "victim", "important.txt"), "utf8")).toBe("precious\n");
    // WHEN the record is truncated THEN the same: a message, no SyntaxError trace
    writeFileSync(record, '{"files": ["stac');
    const truncated = synth();
    expect(truncated.status).toBe(1);
    expect(truncated.stderr).toMatch(/synthesized-files\.json: not valid JSON .*restore it from git/);
    expect(truncated.stderr).not.toMatch(/SyntaxError|^\s+at /m);
    // WHEN a config value carries an escape sequence THEN the message shows it escaped
    writeFileSync(config, `${readFileSync(config, "utf8")}"x\\e]0;owned\\a": 1\n`);
    const hostile = synth();
    expect(hostile.status).toBe(1);
    expect(hostile.stderr).toContain(String.raw`x\u001b]0;owned\u0007`);
    // eslint-disable-next-line no-control-regex -- control characters are what must not appear
    expect(hostile.stderr).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f]/);
  });
});
