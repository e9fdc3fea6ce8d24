/**
 * The example config as the tool's tests use it: a copy under test/fixtures/configs/ (example.yaml and
 * its lock), so the tool's tests never read the team's root files (gitlab-oidc.yaml, its lock,
 * terraform/) nor depend on upstream's examples/ staying as they are.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfigFile } from "../../src/config/load";
import type { Config } from "../../src/config/schema";
import { readLockFor, type GitLabLock } from "../../src/gitlab/lock";
import { synthesize } from "../../src/synth";
import { readSynthesizedStacks, type SynthesizedStack } from "../../src/terraform/synthesized-stacks";

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

/**
 * The example synthesized to HCL once per test file (jest gives each file its own module registry) in a
 * temporary directory removed after the test file: its `terraform/` (stacks, ACCESS.md, pipeline jobs).
 * Read it, never write to it; copy it to change it.
 */
export function synthesizedExample(): Promise<{ dir: string; config: Config; stacks: SynthesizedStack[] }> {
  synthesized ??= (async () => {
    const root = mkdtempSync(join(tmpdir(), "gitlab-oidc-example-"));
    synthesizedRoot = root;
    const config = exampleConfig();
    const dir = join(root, "terraform");
    synthesize(config, { outdir: dir, hcl: true });
    return { dir, config, stacks: await readSynthesizedStacks(dir) };
  })();
  return synthesized;
}
