/**
 * The test harness's sharing (test/support/shared-environment.cjs, test/support/shared-modules-runtime.cjs):
 * the files a worker runs share one context and the modules outside test/, and still get what jest gives
 * each file on its own. A real jest run on a small project of five files, in one worker, in path order.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { run } from "../support/run";

const REPO = join(__dirname, "..", "..");
const SUPPORT = join(REPO, "test", "support");

/** The project's files, by path. */
const FILES: Record<string, string> = {
  "jest.config.js": `module.exports = {
  rootDir: __dirname,
  testMatch: ["<rootDir>/test/*.test.js"],
  testEnvironment: ${JSON.stringify(join(SUPPORT, "shared-environment.cjs"))},
  runtime: ${JSON.stringify(join(SUPPORT, "shared-modules-runtime.cjs"))},
  transform: {},
  testSequencer: "<rootDir>/by-path.js",
};`,
  "by-path.js": `const Sequencer = require(${JSON.stringify(require.resolve("@jest/test-sequencer"))}).default;
module.exports = class extends Sequencer { sort(tests) { return [...tests].sort((a, b) => (a.path < b.path ? -1 : 1)); } };`,
  // Counts its evaluations on the global (one context for every file) and requires ./late.js only when asked.
  "src/shared.js": `globalThis.evaluations = (globalThis.evaluations ?? 0) + 1;
module.exports = { evaluations: () => globalThis.evaluations, error: () => new Error("x"), late: () => require("./late") };`,
  "src/late.js": `module.exports = "required late";`,
  "src/mocked.js": `module.exports = "real";`,
  // A test support module: per file.
  "test/support.js": `globalThis.supportEvaluations = (globalThis.supportEvaluations ?? 0) + 1;
module.exports = () => globalThis.supportEvaluations;`,
  "test/a.test.js": `const shared = require("../src/shared");
const support = require("./support");
test("a", () => {
  expect([shared.evaluations(), support()]).toEqual([1, 1]);
  process.env.LEFT_BY_A = "1";
  process.env.ENV_PROBE = "changed by a";
  jest.setTimeout(1);
});`,
  "test/b.test.js": `const shared = require("../src/shared");
const support = require("./support");
test("b", () => {
  expect([shared.evaluations(), support()]).toEqual([1, 2]);
  expect(shared.error()).toBeInstanceOf(Error);
  expect(shared.late()).toBe("required late");
  expect(process.env.LEFT_BY_A).toBeUndefined();
  expect(process.env.ENV_PROBE).toBe("as the run started");
  expect(expect.getState().testPath).toBe(__filename);
  return new Promise((resolve) => setTimeout(resolve, 20));
});`,
  "test/c.test.js": `jest.mock("../src/mocked", () => "mock");
const shared = require("../src/shared");
test("c", () => {
  expect(require("../src/mocked")).toBe("mock");
  expect(shared.evaluations()).toBe(2);
});`,
  "test/d.test.js": `test("d", () => { expect(require("../src/mocked")).toBe("real"); });`,
  "test/e.test.js": `test("e fails", () => { expect("e").toBe("not e"); });`,
};

test("files share one context and the modules outside test/, and get their own jest state", () => {
  const root = mkdtempSync(join(tmpdir(), "gitlab-oidc-jest-sharing-"));
  try {
    for (const [file, text] of Object.entries(FILES)) {
      mkdirSync(dirname(join(root, file)), { recursive: true });
      writeFileSync(join(root, file), text);
    }
    // WHEN jest runs the five files in one worker
    const result = run(
      process.execPath,
      [
        require.resolve("jest/bin/jest"),
        "--config",
        join(root, "jest.config.js"),
        "--runInBand",
        "--json",
        "--outputFile",
        join(root, "results.json"),
        "--ci",
      ],
      {
        cwd: root,
        env: { ...process.env, NODE_OPTIONS: "", ENV_PROBE: "as the run started" },
        timeoutMs: 60_000,
      },
    );
    const results = JSON.parse(readFileSync(join(root, "results.json"), "utf8")) as {
      testResults: {
        name: string;
        status: string;
        assertionResults: { title: string; status: string; failureMessages: string[] }[];
      }[];
    };
    const byFile = Object.fromEntries(
      results.testResults.map((file) => [
        file.name.slice(root.length + 1),
        file.assertionResults.map(
          (test) =>
            `${test.title}: ${test.status}${test.failureMessages.length > 0 ? ` ${test.failureMessages[0]!.split("\n")[0]}` : ""}`,
        ),
      ]),
    );
    // THEN a and b shared src/shared.js (evaluated once) and its realm, b's late require worked after a
    // was torn down, test/support.js was evaluated for each, and nothing a left in process.env or
    // jest.setTimeout reached b (its 20 ms wait outlived a's 1 ms timeout)
    // AND c, which mocks a module, got its own src/ modules, and its mock did not reach d
    // AND e's failure is e's alone
    expect(byFile).toEqual({
      "test/a.test.js": ["a: passed"],
      "test/b.test.js": ["b: passed"],
      "test/c.test.js": ["c: passed"],
      "test/d.test.js": ["d: passed"],
      "test/e.test.js": [expect.stringMatching(/^e fails: failed .*expect\(received\)\.toBe\(expected\)/)],
    });
    expect(result.status).toBe(1);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
