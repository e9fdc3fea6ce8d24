/**
 * The rules of `state` and of each account's `pipeline` roles that span fields: with state in S3, the
 * bucket's account, the break-glass role, every stack's planner and deployer, and the size of the bucket
 * policy they add up to. Problems, not exceptions, so one run reports them all (rules.ts' convention).
 */
import type { Problem } from "./rules";
import type { Config } from "./schema";
import { iamArnProblem } from "./validators";
import {
  BUCKET_POLICY_MAX_LENGTH,
  STATE_READ_POLICY,
  STATE_STACK,
  STATE_WRITE_POLICY,
  stateBucketPolicy,
  type S3StateConfig,
} from "../model/state-access";
import { policyLength } from "../model/trust-policy";

/** `gitlab-oidc-state`, compared as the pipeline's variable suffixes are: case and -/_ ignored. */
function isStateStackName(name: string): boolean {
  return name.toUpperCase().replace(/-/g, "_") === STATE_STACK.toUpperCase().replace(/-/g, "_");
}

export function checkStateAndPipelineRoles(config: Config): Problem[] {
  const problems: Problem[] = [];
  config.accounts.forEach((account, i) => {
    const path = ["accounts", i];
    if (isStateStackName(account.name)) {
      problems.push({
        path: [...path, "name"],
        message: `"${account.name}" is the name of the state bucket's own stack (state.type s3); rename the account`,
      });
    }
    const pipeline = account.pipeline;
    if (pipeline === undefined) {
      if (config.state.type === "s3") {
        problems.push({
          path,
          message: `with state.type s3, every account names the roles its pipeline jobs use, whose state permissions are generated: add pipeline: { planner: <role>, deployer: <role> } (roles of this account)`,
        });
      }
      return;
    }
    const names = new Set(account.roles.map((role) => role.name));
    for (const which of ["planner", "deployer"] as const) {
      if (!names.has(pipeline[which])) {
        problems.push({
          path: [...path, "pipeline", which],
          message: `${which} "${pipeline[which]}" is not a role of this account; name one of: ${[...names].join(", ")}`,
        });
      }
    }
    if (pipeline.planner === pipeline.deployer) {
      problems.push({
        path: [...path, "pipeline", "deployer"],
        message:
          "the deployer must be another role than the planner: a plan runs merge-request code, and whoever plans could then write state and apply",
      });
    }
    account.roles.forEach((role, r) => {
      for (const reserved of [STATE_READ_POLICY, STATE_WRITE_POLICY]) {
        if (Object.hasOwn(role.inlinePolicies, reserved)) {
          problems.push({
            path: [...path, "roles", r, "inlinePolicies", reserved],
            message: `the inline policy name ${reserved} is generated for the pipeline's state access; rename this one`,
          });
        }
      }
    });
  });
  if (config.state.type === "s3") problems.push(...checkS3State(config, config.state));
  return problems;
}

function checkS3State(config: Config, state: S3StateConfig): Problem[] {
  const problems: Problem[] = [];
  const owner = config.accounts.find((account) => account.name === state.account);
  if (owner === undefined) {
    problems.push({
      path: ["state", "account"],
      message: `"${state.account}" is not an account of this config; name the account that owns the bucket: ${config.accounts.map((a) => a.name).join(", ")}`,
    });
    return problems;
  }
  const breakGlass = iamArnProblem(state.breakGlassRoleArn, {
    what: "the break-glass role",
    resourceType: "role",
    partition: owner.partition,
    accountId: owner.accountId,
    allowAwsManaged: false,
  });
  if (breakGlass !== undefined) problems.push({ path: ["state", "breakGlassRoleArn"], message: breakGlass });
  if (state.kmsKeyArn !== undefined) {
    const region = state.kmsKeyArn.split(":")[3];
    if (region !== state.region) {
      problems.push({
        path: ["state", "kmsKeyArn"],
        message: `the KMS key is in ${region}, the bucket in ${state.region}: S3 encrypts with a key of the bucket's region only`,
      });
    }
  }
  config.accounts.forEach((account, i) => {
    if (account.partition !== owner.partition) {
      problems.push({
        path: ["accounts", i, "partition"],
        message: `the state bucket is in partition ${owner.partition} (account ${owner.name}); roles of partition ${account.partition} cannot reach it: keep this account's state in a config of its own`,
      });
    }
  });
  const pipelineRoles = config.accounts.flatMap((account) =>
    account.pipeline
      ? [account.pipeline.planner, account.pipeline.deployer].map((role) => `${account.accountId}/${role}`)
      : [],
  );
  if (problems.length === 0 && pipelineRoles.length > 0) {
    const length = policyLength(stateBucketPolicy(config, state));
    if (length > BUCKET_POLICY_MAX_LENGTH) {
      problems.push({
        path: ["state"],
        message: `the state bucket's policy would be ${length} characters, over S3's ${BUCKET_POLICY_MAX_LENGTH}: split the accounts over two configs with their own buckets`,
      });
    }
  }
  return problems;
}
