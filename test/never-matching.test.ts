/**
 * Grants that can never match are problems with the fix named, and type errors on common mistakes get a
 * hint: what a reviewer would otherwise only learn from an AccessDenied in a pipeline.
 */
import { stringify } from "yaml";
import { minimalConfig, problemsOf } from "./support/configs";

const ROLE = "accounts[0].roles[0]";
const grant = (entry: Record<string, unknown>) =>
  minimalConfig({ allow: [{ project: "acme/web", ...entry }] });

describe("refs written as git refs never match GitLab's bare ref claim", () => {
  test.each([
    [
      { branches: ["refs/heads/main"] },
      "branches[0]",
      /"refs\/heads\/main" never matches: .*bare branch name.*write "main"/,
    ],
    [{ tags: ["refs/tags/v*"] }, "tags[0]", /"refs\/tags\/v\*" never matches: .*bare tag name.*write "v\*"/],
    [{ branches: ["main", "refs/tags/v1"] }, "branches[1]", /names a tag: move "v1" to tags/],
    [{ tags: ["refs/heads/release"] }, "tags[0]", /names a branch: move "release" to branches/],
  ])("%j → a problem on the pattern with the fix", (entry, where, message) => {
    const problems = problemsOf(grant(entry));
    expect(problems).toEqual([
      expect.stringMatching(
        new RegExp(
          `^test\\.yaml:\\d+:\\d+: ${ROLE.replace(/[[\].]/g, "\\$&")}\\.allow\\[0\\]\\.${where.replace(/[[\]]/g, "\\$&")}: `,
        ),
      ),
    ]);
    expect(problems[0]).toMatch(message);
  });

  test("a name that merely contains refs/ elsewhere is fine", () => {
    expect(problemsOf(grant({ branches: ["team/refs/heads"] }))).toEqual([]);
  });
});

describe("merge-request pipelines and protection", () => {
  test("merge_request_event with the default protected: true is a problem naming GitLab's rule and both fixes", () => {
    const problems = problemsOf(grant({ branches: ["feature/*"], pipelineSources: ["merge_request_event"] }));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(
      /allow\[0\]\.pipelineSources: merge_request_event with the default protected: true/,
    );
    expect(problems[0]).toMatch(/source and the target branch protected, not from a fork/);
    expect(problems[0]).toMatch(
      /Write protected: false .* or protected: true to say you rely on protected merge-request pipelines/,
    );
  });

  test.each([false, true])(
    "stated protected: %s is accepted (the intent is written down)",
    (protectedRefs) => {
      expect(
        problemsOf(
          grant({
            branches: ["feature/*"],
            pipelineSources: ["merge_request_event"],
            protected: protectedRefs,
          }),
        ),
      ).toEqual([]);
    },
  );

  test("tags with only merge-request pipelines never match (merge-request pipelines run for branches)", () => {
    const problems = problemsOf(
      grant({ tags: ["v*"], pipelineSources: ["merge_request_event"], protected: false }),
    );
    expect(problems).toEqual([
      expect.stringMatching(/allow\[0\]\.tags: merge-request pipelines run for a branch, never a tag/),
    ]);
  });
});

describe("type errors on common mistakes get a hint", () => {
  test('tags: v* (a string, not a list) → write a list: tags: ["v*"]', () => {
    const text = stringify(minimalConfig()).replace("branches:\n", "tags: v*\n            branches:\n");
    const problems = problemsOf(text);
    expect(problems.join("\n")).toMatch(
      /allow\[0\]\.tags: .*expected array, received string: write a list: tags: \["v\*"\]/,
    );
  });

  test('branches: main → write a list: branches: ["main"]', () => {
    expect(problemsOf(grant({ branches: "main" })).join("\n")).toMatch(/write a list: branches: \["main"\]/);
  });

  test("a bare managed policy name → its ARN in the account's partition, AWS managed or the account's own", () => {
    const problems = problemsOf(minimalConfig({ managedPolicyArns: ["ReadOnlyAccess"] })).join("\n");
    expect(problems).toMatch(
      /"ReadOnlyAccess" is a policy name, not an ARN: an AWS managed policy is arn:aws:iam::aws:policy\/ReadOnlyAccess, one of this account's arn:aws:iam::111111111111:policy\/ReadOnlyAccess/,
    );
    const china = problemsOf(
      minimalConfig({ managedPolicyArns: ["ReadOnlyAccess"] }, { region: "cn-north-1", partition: "aws-cn" }),
    ).join("\n");
    expect(china).toMatch(/arn:aws-cn:iam::aws:policy\/ReadOnlyAccess/);
  });

  test("a path-qualified AWS managed policy name gets its ARN too", () => {
    expect(
      problemsOf(minimalConfig({ managedPolicyArns: ["service-role/AWSLambdaRole"] })).join("\n"),
    ).toMatch(/arn:aws:iam::aws:policy\/service-role\/AWSLambdaRole/);
  });
});
