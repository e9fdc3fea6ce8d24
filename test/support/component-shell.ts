/**
 * TEST SUPPORT ONLY: runs the component's script (taken from the template) directly under dash, bash or
 * BusyBox sh, as a job's shell would: `set -e`, then the script, then the job's own commands. The BusyBox
 * shell gets a PATH holding only BusyBox applets (as in hashicorp/terraform, which is Alpine).
 */
import { execFileSync, spawn } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { componentScript } from "./ci-local";

export type ShellName = "dash" | "bash" | "busybox";
export const SHELLS: readonly ShellName[] = ["dash", "bash", "busybox"];

/** The real AWS CLI v2 (Debian's), by absolute path so it runs with any PATH. */
export const AWS_CLI = "/usr/bin/aws";

export interface ShellRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout and stderr interleaved as the job log would show them. */
  readonly log: string;
}

export class ComponentShells {
  private readonly dirs: string[] = [];
  /** A directory of symlinks to /usr/bin/busybox, one per applet. */
  readonly busyboxBin: string;

  constructor() {
    this.busyboxBin = this.tempDir("busybox-bin-");
    const applets = execFileSync("/usr/bin/busybox", ["--list"], { encoding: "utf8" }).split("\n");
    for (const applet of applets.filter(Boolean))
      symlinkSync("/usr/bin/busybox", join(this.busyboxBin, applet));
  }

  tempDir(prefix: string): string {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    this.dirs.push(dir);
    return dir;
  }

  /** A directory on PATH with small executable sh scripts, e.g. { sleep: 'echo "$1" >> …' }. */
  fakeBin(tools: Record<string, string>): string {
    const dir = this.tempDir("fake-bin-");
    for (const [name, body] of Object.entries(tools)) {
      writeFileSync(join(dir, name), `#!/bin/sh\n${body}\n`);
      chmodSync(join(dir, name), 0o755);
    }
    return dir;
  }

  /**
   * Runs `set -e`, `before`, the component script and `after` under `shell`, with only `env` (plus a
   * private HOME, a checkout directory CI_PROJECT_DIR and region eu-west-1 unless given) in the environment. `pathPrefix`
   * directories come first on PATH. Async: the STS stand-in answers from this process.
   */
  run(
    shell: ShellName,
    {
      before = "",
      after = "",
      env = {},
      pathPrefix = [],
    }: { before?: string; after?: string; env?: Record<string, string>; pathPrefix?: string[] },
  ): Promise<ShellRun> {
    const home = this.tempDir("component-home-");
    const projectDir = join(home, "project");
    mkdirSync(projectDir);
    const path = [...pathPrefix, shell === "busybox" ? this.busyboxBin : "/usr/bin:/bin"].join(":");
    const [command, ...args] = shell === "busybox" ? ["/usr/bin/busybox", "sh"] : [`/bin/${shell}`];
    const script = `set -e\n${before}\n${componentScript()}\n${after}\n`;
    return new Promise((resolve) => {
      const child = spawn(command!, [...args, "-c", script], {
        cwd: projectDir,
        env: {
          PATH: path,
          HOME: home,
          CI_PROJECT_DIR: projectDir,
          AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
          AWS_EC2_METADATA_DISABLED: "true",
          AWS_CREDENTIALS_AWS_CLI: AWS_CLI,
          // The component has no default region (2.0.0): jobs name one; tests of that set it to "".
          AWS_CREDENTIALS_REGION: "eu-west-1",
          CI_JOB_ID: "7",
          CI_PIPELINE_ID: "8",
          CI_PROJECT_ID: "9",
          ...env,
        },
      });
      let stdout = "";
      let stderr = "";
      let log = "";
      child.stdout.on("data", (d: Buffer) => ((stdout += d.toString()), (log += d.toString())));
      child.stderr.on("data", (d: Buffer) => ((stderr += d.toString()), (log += d.toString())));
      child.on("close", (status) => resolve({ status, stdout, stderr, log }));
    });
  }

  /** Directory entries left in `dir` (for the clean-up tests). */
  static leftIn(dir: string): string[] {
    return existsSync(dir)
      ? execFileSync("ls", ["-A", dir], { encoding: "utf8" }).split("\n").filter(Boolean)
      : [];
  }

  cleanup(): void {
    for (const dir of this.dirs) rmSync(dir, { recursive: true, force: true });
  }
}

/** An AWS data path whose STS endpoint rule set sends every STS call (the CLI's own too) to `url`. */
export function stsRuleSetDataPath(dir: string, url: string): string {
  const ruleSetDir = join(dir, "sts", "2011-06-15");
  mkdirSync(ruleSetDir, { recursive: true });
  const rules = [{ conditions: [], endpoint: { url, properties: {}, headers: {} }, type: "endpoint" }];
  writeFileSync(
    join(ruleSetDir, "endpoint-rule-set-1.json"),
    JSON.stringify({ version: "1.0", parameters: {}, rules }),
  );
  return dir;
}
