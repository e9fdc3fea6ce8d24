/**
 * The example config as the tool's tests use it: a copy under test/fixtures/configs/ (example.yaml and
 * its lock), so the tool's tests never read the team's root files (gitlab-oidc.yaml, its lock,
 * terraform/) nor depend on upstream's examples/ staying as they are.
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfigFile } from "../../src/config/load";
import type { Config } from "../../src/config/schema";
import { readLockFor, type GitLabLock } from "../../src/gitlab/lock";
import type { SynthesizedStack } from "../../src/terraform/synthesized-stacks";

/** The repository root (the tool's files; never read the team's files from here in a tool test). */
export const TOOL_ROOT = join(__dirname, "..", "..");
/** The example's copy: config and lock (example.lock.yaml beside it). */
export const EXAMPLE_FIXTURE = join(TOOL_ROOT, "test", "fixtures", "configs", "example.yaml");

/** The example's text. */
export const exampleText = (): string => readFileSync(EXAMPLE_FIXTURE, "utf8");
/** The example's lock. */
export const exampleLock = (): GitLabLock => readLockFor(EXAMPLE_FIXTURE)!;
/** The example, loaded with its lock. */
export const exampleConfig = (): Config => loadConfigFile(EXAMPLE_FIXTURE);

let synthesized: Promise<{ dir: string; config: Config; stacks: SynthesizedStack[] }> | undefined;
let synthesizedRoot: string | undefined;
// Removed after the test file that synthesized it (jest workers do not always exit normally).
afterAll(() => {
  if (synthesizedRoot) rmSync(synthesizedRoot, { recursive: true, force: true });
  synthesizedRoot = undefined;
  synthesized = undefined;
});

/** The example's synth made once per run by jest's global set-up (test/support/global-setup.mjs), if any. */
function sharedSynth(): string | undefined {
  const synths = JSON.parse(process.env.GITLAB_OIDC_TEST_SYNTHS ?? "{}") as Record<string, string>;
  return synths.example !== undefined && existsSync(synths.example) ? synths.example : undefined;
}

/**
 * The example synthesized to HCL, copied once per test file (jest gives each file its own module
 * registry) into a temporary directory removed after the test file: its `terraform/` (stacks,
 * ACCESS.md, pipeline jobs). The copy comes from the run's shared synth (`node dist/main.js`, cached by
 * a hash of its inputs); without one (a test file run outside jest's global set-up) it is synthesized
 * here. The stacks are read back from the JSON synth when there is one: the WebAssembly HCL parser
 * costs a second or more per process. Read it, never write to it; copy it to change it.
 */
export function synthesizedExample(): Promise<{ dir: string; config: Config; stacks: SynthesizedStack[] }> {
  synthesized ??= (async () => {
    const root = mkdtempSync(join(tmpdir(), "gitlab-oidc-example-"));
    synthesizedRoot = root;
    const config = exampleConfig();
    const dir = join(root, "terraform");
    const shared = sharedSynth();
    // The stacks' reader loads cdktf (through src/terraform/literal.ts): here, not for every importer.
    const { readSynthesizedStacks } = await import("../../src/terraform/synthesized-stacks");
    if (shared) {
      cpSync(join(shared, "terraform"), dir, { recursive: true });
      return { dir, config, stacks: await readSynthesizedStacks(join(shared, "terraform-json")) };
    }
    // Loaded here only: cdktf and the provider classes cost a second or more per test file.
    const { synthesize } = await import("../../src/synth");
    synthesize(config, { outdir: dir, hcl: true });
    return { dir, config, stacks: await readSynthesizedStacks(dir) };
  })();
  return synthesized;
}
