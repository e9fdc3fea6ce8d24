/**
 * The team checks (test/team/, functions in test/support/team-checks.ts) can fail, each for its reason,
 * on fixtures; and upstream's example (examples/basic/) passes them, as a fresh clone's test/team/ does.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfigFile } from "../src/config/load";
import { deployAudience, renderStackJobs } from "../src/pipeline/stack-jobs";
import { readSynthesizedStacks, type SynthesizedStack } from "../src/terraform/synthesized-stacks";
import { EXAMPLE_FIXTURE, exampleText, synthesizedExample, TOOL_ROOT } from "./support/example";
import { parse } from "./support/configs";
import {
  audienceProblems,
  freshSynth,
  lockGaps,
  outputDifferences,
  undefinedTemplates,
} from "./support/team-checks";

let scratch: string;
beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), "team-checks-"));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("outputDifferences", () => {
  test("names a hand-edited ACCESS.md, a missing stack file and a stray file; nothing for an exact copy", async () => {
    // GIVEN a copy of a fresh synth
    const { dir } = await synthesizedExample();
    const copy = join(scratch, "output");
    cpSync(dir, copy, { recursive: true });
    expect(outputDifferences(copy, dir)).toEqual([]);
    // WHEN ACCESS.md is edited, a stack file removed and a file added
    writeFileSync(join(copy, "ACCESS.md"), "edited by hand\n");
    rmSync(join(copy, "stacks", "staging", "cdk.tf"));
    writeFileSync(join(copy, "stacks", "production", "extra.tf"), "# mine\n");
    // THEN each is named
    expect(outputDifferences(copy, dir).sort()).toEqual([
      "ACCESS.md: differs from what the synth writes",
      "stacks/production/extra.tf: not written by the synth",
      "stacks/staging/cdk.tf: missing (the synth writes it)",
    ]);
  });
});

describe("lockGaps", () => {
  test("names a missing lock file, and a project the lock does not name", () => {
    // GIVEN the example copied without its lock, then with a lock missing acme/web
    const file = join(scratch, "gitlab-oidc.yaml");
    writeFileSync(file, exampleText());
    const config = loadConfigFile(EXAMPLE_FIXTURE);
    expect(lockGaps(file, config)).toEqual([
      `${join(scratch, "gitlab-oidc.lock.yaml")}: missing (run npm run resolve and commit it)`,
    ]);
    const lock = readFileSync(EXAMPLE_FIXTURE.replace(/\.yaml$/, ".lock.yaml"), "utf8");
    writeFileSync(join(scratch, "gitlab-oidc.lock.yaml"), lock.replace(/^ {2}"acme\/web".*\n/m, ""));
    // THEN the gap is named
    expect(lockGaps(file, config)).toEqual([
      `${join(scratch, "gitlab-oidc.lock.yaml")} does not name project acme/web (run npm run resolve)`,
    ]);
    // AND the example's own lock covers it
    expect(lockGaps(EXAMPLE_FIXTURE, config)).toEqual([]);
  });
});

describe("audienceProblems", () => {
  const gitlabState = (roles: Record<string, unknown>[]) =>
    parse({
      gitlab: { url: "https://gitlab.com" },
      state: { type: "gitlab", url: "https://gitlab.com", projectId: 42 },
      accounts: [{ name: "production", accountId: "111111111111", region: "eu-west-1", roles }],
    });
  const grant = { allow: [{ project: "acme/platform/oidc", branches: ["main"] }] };

  test("a deploy job whose token no provider client ID accepts is named; a deployer role's audience fixes it", async () => {
    // GIVEN GitLab-managed state (plan and deploy jobs) with a deployer accepting the deploy jobs' audience
    const withDeployer = gitlabState([
      { name: "planner", ...grant },
      { name: "deployer", audience: deployAudience("production"), ...grant },
    ]);
    const synth = freshSynth(withDeployer);
    try {
      const stacks = await readSynthesizedStacks(synth.dir);
      const jobs = readFileSync(join(synth.dir, "stacks.gitlab-ci.yml"), "utf8");
      // THEN nothing is named
      expect(audienceProblems(stacks, jobs)).toEqual([]);
      // WHEN the deploy job asks for an audience no role accepts (the config refuses that; an edited
      // stacks.gitlab-ci.yml can still say it) THEN the deploy job is named, the plan job is not
      expect(
        audienceProblems(
          stacks,
          jobs.replace(deployAudience("production"), "gitlab-oidc-aws-deploy-elsewhere"),
        ),
      ).toEqual([
        expect.stringMatching(/^deploy:production: its ID token's aud gitlab-oidc-aws-deploy-elsewhere /),
      ]);
    } finally {
      synth.cleanup();
    }
  });

  test("a role requiring an aud its provider does not list is named", async () => {
    // GIVEN the example's stacks with one trust policy's aud changed behind the provider's back
    const { stacks } = await synthesizedExample();
    const role = stacks[0]!.roles[0]!;
    const statement = role.trustPolicy.Statement[0]!;
    const broken: SynthesizedStack[] = [
      {
        ...stacks[0]!,
        roles: [
          {
            ...role,
            trustPolicy: {
              ...role.trustPolicy,
              Statement: [{ ...statement, Condition: { StringEquals: { "gitlab.com:aud": ["elsewhere"] } } }],
            },
          },
        ],
      },
    ];
    // THEN it is named
    expect(audienceProblems(broken, "")).toEqual([
      `production: role ${role.name} requires aud elsewhere, which the provider does not accept`,
    ]);
  });
});

describe("undefinedTemplates", () => {
  test("a generated job extending a hidden job .gitlab-ci.yml lacks is named", () => {
    // GIVEN jobs generated for GitLab-managed state
    const config = parse({
      gitlab: { url: "https://gitlab.com" },
      state: { type: "gitlab", url: "https://gitlab.com", projectId: 42 },
      accounts: [
        {
          name: "production",
          accountId: "111111111111",
          region: "eu-west-1",
          roles: [
            {
              name: "r",
              audience: deployAudience("production"),
              allow: [{ project: "a/b", branches: ["main"] }],
            },
          ],
        },
      ],
    });
    const stack = {
      name: "production",
      region: "eu-west-1",
      providerUrl: "https://gitlab.com",
      providerMode: "create",
      providerReference: "x",
      roles: [],
    } as const;
    const jobs = renderStackJobs(config, [stack]);
    const pipeline = readFileSync(join(TOOL_ROOT, ".gitlab-ci.yml"), "utf8");
    // THEN the repository's pipeline defines what they extend, and one without .terraform-deploy does not
    expect(undefinedTemplates(jobs, pipeline)).toEqual([]);
    expect(undefinedTemplates(jobs, pipeline.replace(/^\.terraform-deploy:/m, ".renamed:"))).toEqual([
      "deploy:production extends .terraform-deploy, which .gitlab-ci.yml does not define",
    ]);
  });
});

describe("upstream's example (examples/basic/), what a fresh clone's main command writes", () => {
  test("its committed output is what the synth writes, and its lock covers it", () => {
    // GIVEN the example as upstream ships it WHEN synthesized THEN its committed terraform/ matches
    const file = join(TOOL_ROOT, "examples", "basic", "gitlab-oidc.yaml");
    const config = loadConfigFile(file);
    const fresh = freshSynth(config, undefined, file);
    try {
      expect(outputDifferences(join(TOOL_ROOT, "examples", "basic", "terraform"), fresh.dir)).toEqual([]);
      expect(lockGaps(file, config)).toEqual([]);
    } finally {
      fresh.cleanup();
    }
  });
});
