/**
 * TEST SUPPORT for src/pipeline/plan-summary.sh: running it, GitLab's jq program as the reference, a
 * PATH with only sh, sed and one awk, and seeded random plan-shaped documents with decoys. Used by the
 * unit tests (a representative few) and by test/slow/plan-summary-sweep.test.ts (all of them).
 */
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { repoRoot } from "./pipeline-repo";
import { run, runOk } from "./run";
import { onPath } from "./tools";

export const script = join(repoRoot, "src", "pipeline", "plan-summary.sh");
export const fixture = (name: string) => join(repoRoot, "test", "fixtures", "plan", name);

export function summarise(args: string[], input?: string, env: NodeJS.ProcessEnv = process.env) {
  return run("sh", [script, ...args], { input, env, timeoutMs: 10_000 });
}

/** GitLab's documented jq program (doc/user/infrastructure/iac/mr_integration.md): the reference. */
export const GITLAB_JQ =
  '([.resource_changes[]?.change.actions?]|flatten)|{"create":(map(select(.=="create"))|length),' +
  '"update":(map(select(.=="update"))|length),"delete":(map(select(.=="delete"))|length)}';

/**
 * A PATH holding only sh, sed and the given awk (no jq, no node): what the summary may use. `awk` is
 * a command line such as "mawk" or "busybox awk".
 */
export function toolbox(awk: string): string {
  const dir = mkdtempSync(join(tmpdir(), "plan-summary-path-"));
  const which = (tool: string) => runOk("sh", ["-c", `command -v ${tool}`]).stdout.trim();
  symlinkSync(which("sh"), join(dir, "sh"));
  symlinkSync(which("sed"), join(dir, "sed"));
  writeFileSync(join(dir, "awk"), `#!${which("sh")}\nexec ${awk.replace(/^\S+/, which)} "$@"\n`, {
    mode: 0o755,
  });
  return dir;
}

/** A deterministic pseudo-random generator (mulberry32), so a failing case can be replayed by seed. */
export function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ACTIONS = [
  ["create"],
  ["update"],
  ["delete"],
  ["no-op"],
  ["read"],
  ["delete", "create"],
  ["create", "delete"],
];
/** Strings that look like the counted path from inside a value: they must count nowhere. */
const DECOYS = ['"actions":["create"]', "\\", '\\"', "update", "\u0022delete\u0022", "é ü", ":[{"];

/** A plan-shaped document with decoys: actions keys outside resource_changes[].change, escapes. */
export function randomPlan(next: () => number): unknown {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!;
  const value = (depth: number): unknown => {
    const r = next();
    if (depth > 2 || r < 0.3) return pick([pick(DECOYS), 42, null, true, -1.5e3]);
    if (r < 0.6) return { actions: pick(ACTIONS), [pick(DECOYS)]: value(depth + 1) };
    return [value(depth + 1), pick(DECOYS)];
  };
  const change = () => ({
    address: `aws_iam_role.${pick(DECOYS)}`,
    change: { before: value(0), actions: pick(ACTIONS), after: value(0) },
  });
  const n = Math.floor(next() * 6);
  return {
    format_version: "1.2",
    ...(next() < 0.5 ? { resource_drift: [change(), change()] } : {}),
    ...(next() < 0.9 ? { resource_changes: Array.from({ length: n }, change) } : {}),
    output_changes: { role_arns: { actions: pick(ACTIONS) } },
    configuration: { actions: pick(ACTIONS), nested: value(0) },
  };
}

/** The script on `file` with a PATH of sh, sed and `awk` only (see toolbox), the PATH removed after. */
export function summariseWithOnly(awk: string, file: string) {
  const path = toolbox(awk);
  try {
    return summarise([file], undefined, { PATH: path });
  } finally {
    rmSync(path, { recursive: true, force: true });
  }
}

/** The awks the script must work with, as command lines: those on this machine. */
export const AWKS = ["mawk", "busybox awk", "gawk"].filter((awk) => onPath(awk.split(" ")[0]));

/** Summarises the seeded random plan with the script and with GitLab's jq program. */
export function bothSummaries(seed: number): { seed: number; ours: string; theirs: string } {
  const text = JSON.stringify(randomPlan(random(seed)), null, seed % 2 ? 0 : 2);
  const ours = summarise([], text).stdout;
  const theirs = runOk("jq", ["-c", GITLAB_JQ], { input: text }).stdout;
  return { seed, ours, theirs };
}
