/**
 * The access report's section on Terraform state: where each stack's state lives and who can write it,
 * for every state type. State decides what apply does (a planted entry becomes a destroy), so who can
 * write it is as much an access question as who can assume a role.
 */
import type { Config } from "../config/schema";
import { STATE_STACK, stateAccessOf } from "../model/state-access";
import { code } from "./access-report";

export function stateReportLines(config: Config): string[] {
  const state = config.state;
  const lines = ["", "## Terraform state", ""];
  if (state.type === "local") {
    lines.push(
      "Local files (`terraform.<stack>.tfstate` at the repository root): whoever runs `terraform apply` on a",
      "machine that has them writes them. The pipeline gets no plan or deploy jobs (docs/state.md).",
    );
    return lines;
  }
  if (state.type === "gitlab") {
    lines.push(
      `GitLab-managed state of project ${code(String(state.projectId))} on ${code(state.url)}: a job token reads it at`,
      "Developer and **writes or locks it at Maintainer, from any pipeline a Maintainer triggers**, on any",
      "branch (GitLab has no protected states): Run pipeline, rebase, merge trains, applied suggestions",
      "(docs/state.md compares the state types).",
    );
    return lines;
  }
  const owner = config.accounts.find((account) => account.name === state.account);
  lines.push(
    `- S3 bucket ${code(state.bucket)} in ${code(state.region)}, account ${code(owner?.accountId ?? state.account)} (${code(state.account)}); its stack ${code(STATE_STACK)} is applied by hand as break-glass`,
    `- Encryption: ${state.kmsKeyArn ? `KMS key ${code(state.kmsKeyArn)}` : "SSE-S3 (AES-256)"}; versioning on; public access blocked; locking: S3-native (${code("<key>.tflock")})`,
    `- Break-glass (writes any state, alone changes the bucket, deletes versions): ${code(state.breakGlassRoleArn)}`,
    "",
    "| Stack | State object | Read by (planner) | Written by |",
    "|---|---|---|---|",
  );
  for (const access of stateAccessOf(config, state)) {
    lines.push(
      `| ${access.stack} | ${code(access.key)} | ${access.reader ? code(access.reader) : "—"} | ${code(access.writer)}${access.reader ? ", break-glass" : ""} |`,
    );
  }
  return lines;
}
