/** TEST SUPPORT for explain and the access report: one config, synthesized to HCL and read back. */
import { sign } from "node:crypto";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse as parseYaml, stringify } from "yaml";
import { loadConfigFile, sourceDigests } from "../../src/config/load";
import { lockPathFor, serializeLock } from "../../src/gitlab/lock";
import { lockFor } from "./configs";
import type { Config } from "../../src/config/schema";
import { readSynthesizedStacks, type SynthesizedStack } from "../../src/terraform/synthesized-stacks";
import { run } from "./run";
import { testKeyPair } from "./test-key";

/** The fixture's directory: gitlab-oidc.yaml and the lock `npm run resolve` would write (fake IDs). */
export const EXPLAIN_FIXTURE_DIR = join(__dirname, "..", "fixtures", "explain");

/** Two accounts, three roles: project and group grants, branches, tags, any ref, an unprotected one. */
export const EXPLAIN_CONFIG = parseYaml(
  readFileSync(join(EXPLAIN_FIXTURE_DIR, "gitlab-oidc.yaml"), "utf8"),
) as {
  gitlab: Record<string, unknown>;
  accounts: Record<string, unknown>[];
};

/** The IDs of acme/platform's subgroups in the fixture's lock. */
export const FIXTURE_SUBGROUP_IDS = [7001, 7002];

export interface ExplainFixture {
  readonly root: string;
  /** The HCL synth (`cdk.tf`), as committed. */
  readonly outdir: string;
  /**
   * The same config synthesized as JSON (`cdk.tf.json`): read back without the WebAssembly HCL parser,
   * which costs a second or more per process, so most CLI runs use it.
   */
  readonly jsonOutdir: string;
  readonly configFile: string;
  readonly config: Config;
  readonly stacks: SynthesizedStack[];
  readonly cleanup: () => void;
}

/** The shared synth of the fixture made by jest's global set-up (test/support/global-setup.mjs), if any. */
function sharedSynth(): string | undefined {
  const synths = JSON.parse(process.env.GITLAB_OIDC_TEST_SYNTHS ?? "{}") as Record<string, string>;
  return synths.explain !== undefined && existsSync(synths.explain) ? synths.explain : undefined;
}

/**
 * The config as YAML with its lock in a fresh directory, synthesized into `<tmp>/terraform` (HCL) and
 * `<tmp>/terraform-json`, the HCL read back. The fixture itself (the default) is copied from the run's
 * shared synth instead of being synthesized again in every test file.
 */
export async function synthesizeFixture(raw: object = EXPLAIN_CONFIG): Promise<ExplainFixture> {
  const root = mkdtempSync(join(tmpdir(), "explain-"));
  const configFile = join(root, "gitlab-oidc.yaml");
  const outdir = join(root, "terraform");
  const jsonOutdir = join(root, "terraform-json");
  const shared = raw === EXPLAIN_CONFIG ? sharedSynth() : undefined;
  if (shared) {
    cpSync(join(EXPLAIN_FIXTURE_DIR, "gitlab-oidc.yaml"), configFile);
    cpSync(join(EXPLAIN_FIXTURE_DIR, "gitlab-oidc.lock.yaml"), lockPathFor(configFile));
    cpSync(join(shared, "terraform"), outdir, { recursive: true });
    cpSync(join(shared, "terraform-json"), jsonOutdir, { recursive: true });
  } else {
    writeFileSync(configFile, stringify(raw));
    // The lock `npm run resolve` would write: fake IDs; acme/platform has two subgroups.
    writeFileSync(
      lockPathFor(configFile),
      serializeLock(lockFor(raw as Record<string, unknown>, { "acme/platform": FIXTURE_SUBGROUP_IDS })),
    );
  }
  const config = loadConfigFile(configFile);
  if (!shared) {
    // Loaded here only: cdktf and the provider classes cost a second or more per test file.
    const { synthesize } = await import("../../src/synth");
    synthesize(config, { outdir, hcl: true, sources: sourceDigests(configFile) });
    synthesize(config, { outdir: jsonOutdir, hcl: false, sources: sourceDigests(configFile) });
  }
  const stacks = await readSynthesizedStacks(outdir);
  return {
    root,
    outdir,
    jsonOutdir,
    configFile,
    config,
    stacks,
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}

const REPO = join(__dirname, "..", "..");
/** The compiled CLI, as `npm run explain` starts it. */
export const EXPLAIN_CLI = join(REPO, "dist", "src", "explain", "cli.js");

/**
 * JWTs as GitLab issues them (RS256, a `kid`, `iat` now and `exp` in 5 minutes) for these claims, signed
 * with a throwaway key. In process: a JWT is two base64url JSON parts and an RSA-SHA256 signature.
 */
export function makeTokens(claimSets: Record<string, unknown>[]): string[] {
  const { privateKey } = testKeyPair();
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const issuedAt = Math.floor(Date.now() / 1000);
  return claimSets.map((claims) => {
    const signed = `${part({ alg: "RS256", kid: "k" })}.${part({ ...claims, iat: issuedAt, exp: issuedAt + 300 })}`;
    return `${signed}.${sign("sha256", Buffer.from(signed), privateKey).toString("base64url")}`;
  });
}

export function runCli(
  args: string[],
  options: { input?: string; cwd?: string; env?: NodeJS.ProcessEnv } = {},
) {
  const result = run(process.execPath, [EXPLAIN_CLI, ...args], {
    cwd: options.cwd ?? REPO,
    input: options.input ?? "",
    env: { ...process.env, ...options.env },
    timeoutMs: 45_000, // the tests that start it allow 60 s
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/**
 * The CLI's exported entry in process, as `runCli` starts it: the same arguments, stdin and environment
 * (set for the call, then restored), its output captured.
 */
export async function explainInProcess(
  args: string[],
  options: { input?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const { runCli: explainCli } = await import("../../src/explain/cli");
  const saved = Object.fromEntries(Object.keys(options.env ?? {}).map((key) => [key, process.env[key]]));
  Object.assign(process.env, options.env);
  let stdout = "";
  let stderr = "";
  try {
    const code = await explainCli(args, {
      stdout: (text) => (stdout += text),
      stderr: (text) => (stderr += text),
      readStdin: async () => options.input ?? "",
    });
    return { code, stdout, stderr };
  } finally {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
}
