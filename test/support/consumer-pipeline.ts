/**
 * TEST SUPPORT ONLY: one gitlab-ci-local run for many jobs of one consumer pipeline, each job its own
 * scenario, read back job by job: its outcome (from gitlab-ci-local's closing lines) and its own log
 * (.gitlab-ci-local/output/<job>.log). gitlab-ci-local runs every job of a stage even when one fails.
 */
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { consumerJobEnv, type ConsumerRepo } from "./ci-local";
import { runAsync } from "./run";

const gitlabCiLocal = join(__dirname, "..", "..", "node_modules", ".bin", "gitlab-ci-local");

export interface JobOutcome {
  /** passed, failed, or failed but allowed to (allow_failure: true) */
  readonly status: "passed" | "failed" | "allowed-failure";
  /** The script's exit code when the job failed. */
  readonly exitCode?: number;
  /** The job's own log: its commands and everything it printed (stdout and stderr). */
  readonly log: string;
}

export interface PipelineRun {
  /** gitlab-ci-local's exit code: not 0 when a job failed that was not allowed to. */
  readonly exitCode: number;
  /** gitlab-ci-local's stdout and stderr (every job's lines, prefixed with the job's name). */
  readonly output: string;
  /** One job's outcome and log; throws for a job that did not run (a typo in a test is not a pass). */
  job(name: string): JobOutcome;
}

/**
 * Runs `jobs` of the repository's pipeline in one gitlab-ci-local run (shell executor, one at a time),
 * killed after `timeoutMs`. `variables` go to every job (--variable); give a job its own in the pipeline.
 */
export async function runPipeline(
  repo: ConsumerRepo,
  jobs: readonly string[],
  variables: Record<string, string>,
  { validateSchema = false, timeoutMs }: { validateSchema?: boolean; timeoutMs: number },
): Promise<PipelineRun> {
  const home = join(repo.dir, "..", "home");
  mkdirSync(home, { recursive: true });
  const args = ["--home", home, "--no-color", "--concurrency", "1"];
  if (!validateSchema) args.push("--no-json-schema-validation");
  for (const [name, value] of Object.entries(variables)) args.push("--variable", `${name}=${value}`);
  const env = consumerJobEnv(home);
  const result = await runAsync(gitlabCiLocal, [...args, ...jobs], { cwd: repo.dir, env, timeoutMs });
  const output = result.stdout + result.stderr;
  return {
    exitCode: result.status ?? -1,
    output,
    job(name: string): JobOutcome {
      if (!jobs.includes(name)) throw new Error(`job ${name} was not run (run: ${jobs.join(", ")})`);
      const file = join(repo.dir, ".gitlab-ci-local", "output", `${name}.log`);
      if (!existsSync(file)) throw new Error(`job ${name} left no log: did it start?\n${output}`);
      return { ...outcome(output, name), log: readFileSync(file, "utf8") };
    },
  };
}

/**
 * gitlab-ci-local's closing line of a job: "<job>, padded to the longest name> finished in 1.2 s", then
 * " FAIL 1 " or " WARN 1 " when its script failed.
 */
function outcome(output: string, job: string): Omit<JobOutcome, "log"> {
  const escaped = job.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const line = new RegExp(`^${escaped} *finished in [^\\n]*?(?:(FAIL|WARN) (\\d+))?\\s*$`, "m").exec(output);
  if (!line) throw new Error(`no closing line for job ${job} in gitlab-ci-local's output:\n${output}`);
  const [, kind, code] = line;
  if (!kind) return { status: "passed" };
  return { status: kind === "FAIL" ? "failed" : "allowed-failure", exitCode: Number(code) };
}
