/**
 * The checks of THE TEAM'S config (docs/layout.md): generic, so they pass for any valid config, and
 * separate from the tool's tests (every other test file), which never read the team's files. They judge
 * the config `npm run synth` uses: $GITLAB_OIDC_CONFIG, else the root gitlab-oidc.yaml, else (a fresh
 * clone, no team config yet) upstream's example in examples/basic/.
 */
import { readFileSync } from "node:fs";
import { isAbsolute, join, relative } from "node:path";
import { loadConfigFile } from "../../src/config/load";
import { ConfigError } from "../../src/config/rules";
import type { Config } from "../../src/config/schema";
import { loadExtension } from "../../src/extension/load";
import { chooseConfig, extensionFor, outdirFor } from "../../src/layout";
import { readSynthesizedStacks } from "../../src/terraform/synthesized-stacks";
import { TOOL_ROOT } from "../support/example";
import {
  audienceProblems,
  freshSynth,
  lockGaps,
  outputDifferences,
  undefinedTemplates,
} from "../support/team-checks";

const choice = chooseConfig(process.env, TOOL_ROOT);
const file = isAbsolute(choice.file) ? choice.file : join(TOOL_ROOT, choice.file);
const shown = relative(TOOL_ROOT, file);
const committed = outdirFor(file);
const fix = "run npm run synth and commit the output";

describe(`team checks: ${shown} (${choice.source === "example" ? "no team config yet: upstream's example" : "the team's config"})`, () => {
  let config: Config | undefined;
  let loadError = "";
  let fresh: { dir: string; cleanup: () => void } | undefined;
  beforeAll(() => {
    try {
      config = loadConfigFile(file);
      const extension = loadExtension(extensionFor(file));
      fresh = freshSynth(config, extension, file);
    } catch (error) {
      // A ConfigError lists the problems; an ExtensionError or an error thrown by the extension says why.
      loadError = error instanceof ConfigError ? error.message : String(error);
    }
  });
  afterAll(() => fresh?.cleanup());

  test("the config, its lock and its extension load and synthesize (schema, rules, every grant enforceable)", () => {
    expect(loadError).toBe("");
  });

  test("the lock is present and names every project and group the grants name", () => {
    expect(config && lockGaps(file, config)).toEqual([]);
  });

  test(`the committed ${relative(TOOL_ROOT, committed)}/ (stacks, ACCESS.md, pipeline jobs) is exactly what the synth writes (else: ${fix})`, () => {
    expect(fresh && outputDifferences(committed, fresh.dir)).toEqual([]);
  });

  test("the generated pipeline jobs are current and extend jobs .gitlab-ci.yml defines", () => {
    const jobs = readFileSync(join(committed, "stacks.gitlab-ci.yml"), "utf8");
    expect(jobs).toBe(fresh && readFileSync(join(fresh.dir, "stacks.gitlab-ci.yml"), "utf8"));
    expect(undefinedTemplates(jobs, readFileSync(join(TOOL_ROOT, ".gitlab-ci.yml"), "utf8"))).toEqual([]);
  });

  test("deploy audiences are accepted: every aud a role or a generated job's ID token relies on is a client ID of its provider", async () => {
    expect(fresh).toBeDefined();
    const stacks = await readSynthesizedStacks(fresh!.dir);
    expect(audienceProblems(stacks, readFileSync(join(fresh!.dir, "stacks.gitlab-ci.yml"), "utf8"))).toEqual(
      [],
    );
  });
});
