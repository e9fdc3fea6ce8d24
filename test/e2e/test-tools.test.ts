/**
 * The test command is complete on a fresh Debian machine: one installer (scripts/ensure-test-tools.sh)
 * is used by .ci/run (through npm run test:all) and by the pipeline's unit-tests job, it lists every
 * tool the tests start, and a missing tool stops the run with what to install and why.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { filesUnder } from "../support/configs";
import { parseCiYaml, repoRoot } from "../support/pipeline-repo";
import { run } from "../support/run";

const INSTALLER = join(repoRoot, "scripts", "ensure-test-tools.sh");

/** The installer's table: command → Debian package. */
function installerTools(): Map<string, string> {
  const table = /^TOOLS=\(\n([\s\S]*?)^\)/m.exec(readFileSync(INSTALLER, "utf8"))![1];
  return new Map(
    [...table.matchAll(/^\s*"([^|"]+)\|([^|"]+)\|[^"]+"$/gm)].map(([, command, pkg]) => [
      basename(command!),
      pkg!,
    ]),
  );
}

/**
 * What every Debian system has (Essential: yes: sh, bash, coreutils), npm (comes with Node), terraform
 * (optional, skipped loudly), and the name test/e2e/support-run.test.ts uses for a command that does not exist.
 */
const NOT_INSTALLED_BY_THE_INSTALLER = new Set([
  "sh",
  "bash",
  "ls",
  "npm",
  "terraform",
  "no-such-tool-for-the-tests",
]);

describe("scripts/ensure-test-tools.sh, the one installer", () => {
  test("is what the test command and the pipeline's unit-tests job run before the tests", () => {
    // GIVEN .ci/run, package.json and the pipeline
    const ciRun = readFileSync(join(repoRoot, ".ci", "run"), "utf8");
    const scripts = (
      JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as {
        scripts: Record<string, string>;
      }
    ).scripts;
    const pipeline = parseCiYaml(readFileSync(join(repoRoot, ".gitlab-ci.yml"), "utf8")) as Record<
      string,
      { script: string[] }
    >;
    // THEN .ci/run runs test:all, which runs the installer first
    expect(ciRun).toMatch(/npm run test:all/);
    expect(scripts["test:all"]).toMatch(/^bash scripts\/ensure-test-tools\.sh && /);
    // AND the unit-tests job runs the same installer and installs nothing by itself
    const job = pipeline["unit-tests"]!.script.join("\n");
    expect(job).toMatch(/^bash scripts\/ensure-test-tools\.sh$/m);
    expect(job).not.toMatch(/apt-get|apk /);
  });

  test("lists every tool the tests and the scripts they run start", () => {
    // GIVEN the commands named literally in the tests' run/runOk/runAsync and child_process calls, and
    // in src/**/*.sh
    const started = new Set<string>();
    for (const file of filesUnder(join(repoRoot, "test")).filter((f) => f.endsWith(".ts"))) {
      const text = readFileSync(join(repoRoot, "test", file), "utf8");
      const calls = /\b(?:run\w*|spawn|spawnSync|execFile|execFileSync)\(\s*"([^"]+)"/g;
      for (const [, command] of text.matchAll(calls)) started.add(basename(command!));
    }
    for (const file of filesUnder(join(repoRoot, "src")).filter((f) => f.endsWith(".sh"))) {
      const text = readFileSync(join(repoRoot, "src", file), "utf8");
      for (const [, command] of text.matchAll(/^\s*(?:exec\s+)?(jq|curl|wget|python3?|openssl)\b/gm))
        started.add(command!);
    }
    expect(started).toContain("git");
    expect(started).toContain("jq");
    // THEN each is installed by the installer (or is a shell every Debian has, or optional terraform)
    const tools = installerTools();
    const missing = [...started].filter((c) => !tools.has(c) && !NOT_INSTALLED_BY_THE_INSTALLER.has(c));
    expect(missing).toEqual([]);
    // AND the installer covers what the component and pipeline tests need without naming it literally
    for (const tool of ["aws", "rsync", "busybox", "dash"]) expect(tools.has(tool)).toBe(true);
  });

  test("without a tool, stops with the tool, its Debian package and why, instead of failing later", () => {
    // GIVEN a PATH with every installed command except jq
    const bin = mkdtempSync(join(tmpdir(), "no-jq-"));
    try {
      for (const dir of ["/usr/bin", "/bin"]) {
        for (const name of readdirSync(dir)) {
          if (name === "jq") continue;
          try {
            symlinkSync(join(dir, name), join(bin, name));
          } catch {
            // already linked from the other directory
          }
        }
      }
      // WHEN the installer checks (--check never installs)
      const result = run("bash", [INSTALLER, "--check"], { env: { ...process.env, PATH: bin } });
      // THEN it fails, naming jq, its package and which test needs it
      expect(result.status).toBe(1);
      expect(result.stderr).toContain(
        "- jq (Debian package jq): GitLab's documented jq program is the oracle the plan summary (sed and awk) is tested against",
      );
      expect(result.stderr).toMatch(
        /(Install: apt-get install jq |jq is installed, but not on PATH: add the directory of \/usr\/bin\/jq to PATH)/,
      );
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  });
});

describe("skips", () => {
  test("no test is skipped bare: only testWithTool skips, with the reason in the name", () => {
    // GIVEN every test file
    const bare = filesUnder(join(repoRoot, "test"))
      .filter((file) => file.endsWith(".ts") && file !== join("support", "tools.ts"))
      .flatMap((file) =>
        readFileSync(join(repoRoot, "test", file), "utf8")
          .split("\n")
          .map((line, i) => ({ where: `test/${file}:${i + 1}`, line }))
          .filter(({ line }) => /\b(test|it|describe)\.(skip|todo)\b|\bx(it|test|describe)\(/.test(line)),
      );
    // THEN none skips a test without saying why (this file names the pattern only in the regex above)
    expect(bare.filter(({ where }) => !where.startsWith("test/e2e/test-tools.test.ts"))).toEqual([]);
  });
});
