/**
 * The checks of a team's config (test/team/), as functions that hold for ANY valid config and name what
 * to do when they fail. The tool's tests (test/team-checks.test.ts) run them on fixtures and show that
 * each can fail; test/team/ runs them on the team's files.
 */
import { sourceDigests } from "../../src/config/load";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import type { Config } from "../../src/config/schema";
import type { Extension } from "../../src/extension";
import { lockedGroup, lockedProject, lockPathFor, readLockFor } from "../../src/gitlab/lock";
import { synthesize } from "../../src/synth";
import type { SynthesizedStack } from "../../src/terraform/synthesized-stacks";
import { filesUnder, synthFilesUnder } from "./configs";
import { parseCiYaml } from "./pipeline-repo";

/** Synthesizes `config` (with the extension) into a temporary directory: what `npm run synth` writes. */
export function freshSynth(
  config: Config,
  extension?: Extension,
  configFile?: string,
): { dir: string; cleanup: () => void } {
  const root = mkdtempSync(join(tmpdir(), "gitlab-oidc-team-"));
  const dir = join(root, "terraform");
  // As `npm run synth` writes it: with the digests of the config and lock it came from (configFile).
  synthesize(config, {
    outdir: dir,
    hcl: true,
    ...(extension ? { extension } : {}),
    ...(configFile ? { sources: sourceDigests(configFile) } : {}),
  });
  return { dir, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

/**
 * How the committed output directory differs from a fresh synth, one line per file (Terraform's own
 * working files aside); [] when it is exactly what the synth writes.
 */
export function outputDifferences(committed: string, fresh: string): string[] {
  const want = filesUnder(fresh);
  const have = existsSync(committed) ? synthFilesUnder(committed) : [];
  return [
    ...want.filter((file) => !have.includes(file)).map((file) => `${file}: missing (the synth writes it)`),
    ...have.filter((file) => !want.includes(file)).map((file) => `${file}: not written by the synth`),
    ...want
      .filter((file) => have.includes(file))
      .filter(
        (file) => readFileSync(join(committed, file), "utf8") !== readFileSync(join(fresh, file), "utf8"),
      )
      .map((file) => `${file}: differs from what the synth writes`),
  ];
}

/**
 * What the config's lock lacks: the lock file beside it must exist and name every project and group
 * the grants name (`npm run resolve` writes it).
 */
export function lockGaps(configFile: string, config: Config): string[] {
  const lockFile = lockPathFor(configFile);
  if (!existsSync(lockFile)) return [`${lockFile}: missing (run npm run resolve and commit it)`];
  const lock = readLockFor(configFile);
  const grants = config.accounts.flatMap((account) => account.roles.flatMap((role) => role.allow));
  const gaps = new Set<string>();
  for (const grant of grants) {
    if (grant.project !== undefined && !lockedProject(lock, grant.project))
      gaps.add(`project ${grant.project}`);
    if (grant.group !== undefined && !lockedGroup(lock, grant.group)) gaps.add(`group ${grant.group}`);
  }
  return [...gaps].map((gap) => `${lockFile} does not name ${gap} (run npm run resolve)`);
}

/** The `aud` values a role's trust policy requires, from every statement. */
function requiredAudiences(stack: SynthesizedStack): { role: string; aud: string }[] {
  return stack.roles.flatMap((role) =>
    role.trustPolicy.Statement.flatMap((statement) =>
      Object.values(statement.Condition).flatMap((keys) =>
        Object.entries(keys)
          .filter(([key]) => key.endsWith(":aud"))
          .flatMap(([, values]) => values.map((aud) => ({ role: role.name, aud }))),
      ),
    ),
  );
}

interface GeneratedJob {
  readonly variables?: Record<string, string>;
  readonly id_tokens?: Record<string, { aud?: string | string[] }>;
  readonly extends?: string | string[];
}

/**
 * Audiences that would be refused: a role requiring an `aud` its stack's provider does not list as a
 * client ID (STS refuses such a token before the trust policy is read), and an ID token of a generated
 * plan or deploy job whose `aud` the provider of the job's stack does not accept. A stack that uses an
 * existing provider (provider: existing) lists no client IDs here and is not judged.
 */
export function audienceProblems(stacks: readonly SynthesizedStack[], jobsYaml: string): string[] {
  const problems: string[] = [];
  const accepted = new Map(stacks.map((stack) => [stack.name, stack.providerAudiences]));
  for (const stack of stacks) {
    const clientIds = stack.providerAudiences;
    if (!clientIds) continue;
    for (const { role, aud } of requiredAudiences(stack)) {
      if (!clientIds.includes(aud)) {
        problems.push(`${stack.name}: role ${role} requires aud ${aud}, which the provider does not accept`);
      }
    }
  }
  const jobs = (parse(jobsYaml) ?? {}) as Record<string, GeneratedJob>;
  for (const [name, job] of Object.entries(jobs)) {
    const stack = job.variables?.STACK;
    const clientIds = stack === undefined ? undefined : accepted.get(stack);
    if (!clientIds) continue;
    for (const token of Object.values(job.id_tokens ?? {})) {
      for (const aud of [token.aud ?? []].flat()) {
        if (!clientIds.includes(aud)) {
          problems.push(
            `${name}: its ID token's aud ${aud} is not a client ID of stack ${stack}'s provider: give a role of that account audience: ${aud} (docs/pipeline.md)`,
          );
        }
      }
    }
  }
  return problems;
}

/** Generated jobs that extend a job the repository's .gitlab-ci.yml does not define. */
export function undefinedTemplates(jobsYaml: string, pipelineYaml: string): string[] {
  const defined = new Set(Object.keys((parseCiYaml(pipelineYaml) ?? {}) as Record<string, unknown>));
  const jobs = (parse(jobsYaml) ?? {}) as Record<string, GeneratedJob>;
  return Object.entries(jobs).flatMap(([name, job]) =>
    [job.extends ?? []]
      .flat()
      .filter((template) => !defined.has(template))
      .map((template) => `${name} extends ${template}, which .gitlab-ci.yml does not define`),
  );
}
