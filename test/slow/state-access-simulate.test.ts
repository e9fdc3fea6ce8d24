/**
 * Breadth for state in S3: the whole principal × action × resource matrix of test/state-access.test.ts,
 * judged by @cloud-copilot/iam-simulate as well, which must agree with our evaluator on every case.
 */
import { runSimulation } from "@cloud-copilot/iam-simulate";
import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import type { S3StateConfig } from "../../src/model/state-access";
import { lockFor, parse, synthesizeToTemp, type RawConfig } from "../support/configs";
import {
  BUCKET_ACCOUNT,
  caseLabel,
  cases,
  deployedStatePolicies,
  oursFor,
  principals,
} from "../support/state-policies";

test("GIVEN the S3 state fixture's deployed policies WHEN every case is simulated THEN iam-simulate agrees with our evaluator", async () => {
  const raw = parseYaml(readFileSync("test/fixtures/state/s3-state.yaml", "utf8")) as RawConfig;
  const config = parse(raw, lockFor(raw));
  const out = await synthesizeToTemp(config);
  try {
    const deployed = await deployedStatePolicies(out.dir);
    const who = principals(deployed);
    const disagreements: string[] = [];
    const matrix = cases(config, config.state as S3StateConfig, who.keys());
    for (const c of matrix) {
      const identity = who.get(c.principal)!;
      const result = await runSimulation(
        {
          request: {
            principal: c.principal,
            action: c.action,
            resource: { resource: c.resource, accountId: BUCKET_ACCOUNT },
            // aws:PrincipalArn as AWS sets it for a role session: the role's ARN.
            contextVariables: {
              "aws:SecureTransport": "true",
              "aws:PrincipalArn": c.principal,
              "aws:PrincipalAccount": c.principal.split(":")[4]!,
              ...c.context,
            },
          },
          identityPolicies: identity.map((policy, i) => ({ name: `p${i}`, policy })),
          serviceControlPolicies: [],
          resourceControlPolicies: [],
          resourcePolicy: deployed.bucketPolicy,
        },
        {},
      );
      if (result.resultType === "error") throw new Error(`iam-simulate: ${JSON.stringify(result.errors)}`);
      const theirs = result.overallResult === "Allowed";
      const ours = oursFor(c, identity, deployed);
      if (ours !== theirs) disagreements.push(`${caseLabel(c)}: ours=${ours} iam-simulate=${theirs}`);
    }
    expect(matrix.length).toBeGreaterThan(300);
    expect(disagreements).toEqual([]);
  } finally {
    out.cleanup();
  }
});
