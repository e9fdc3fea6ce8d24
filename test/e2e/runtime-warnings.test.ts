/**
 * The warning filter every entry point installs (src/runtime/warnings.ts): cdktf's `util.isArray`
 * deprecation (DEP0044) is dropped, every other warning is printed. The process tests run on whatever
 * Node runs jest, so `scripts/test-node-versions.mjs` repeats them on Node 22 and 24, where Node itself
 * prints DEP0044 for `util.isArray`.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  callerFrame,
  describeWarning,
  isCdktfIsArrayDeprecation,
  UTIL_IS_ARRAY_DEPRECATION,
} from "../../src/runtime/warnings";

const ROOT = join(__dirname, "..", "..");
const NODE_MAJOR = Number(process.versions.node.split(".")[0]);

const cdktfStack = [
  "Error",
  "    at node:internal/util:128:11",
  "    at Object.deprecated [as isArray] (node:internal/util:191:7)",
  "    at TerraformOutput.isITerraformAddressable (/app/node_modules/cdktf/lib/terraform-output.js:38:33)",
  "    at AccountStack.prepareStack (/app/node_modules/cdktf/lib/terraform-stack.js:98:33)",
].join("\n");
const ownStack = [
  "Error",
  "    at Object.deprecated [as isArray] (node:internal/util:191:7)",
  "    at isList (/app/dist/src/model/subjects.js:10:3)",
  // cdktf further up (a callback it runs) does not make the caller cdktf
  "    at AccountStack.prepareStack (/app/node_modules/cdktf/lib/terraform-stack.js:98:33)",
].join("\n");
const deprecation = { type: "DeprecationWarning", code: UTIL_IS_ARRAY_DEPRECATION };

describe("which warnings are dropped", () => {
  test("cdktf's own util.isArray call is dropped", () => {
    // GIVEN DEP0044 whose first caller outside Node is a file of the cdktf package
    // WHEN it is judged THEN it is the one warning dropped
    expect(isCdktfIsArrayDeprecation(deprecation, cdktfStack)).toBe(true);
    expect(isCdktfIsArrayDeprecation(deprecation, cdktfStack.replace(/\//g, "\\"))).toBe(true);
  });

  test.each([
    ["DEP0044 called from our own code", deprecation, ownStack],
    [
      "DEP0044 from a package whose name only starts with cdktf",
      deprecation,
      cdktfStack.replace(/cdktf\/lib/g, "cdktf-extra/lib"),
    ],
    ["another deprecation from cdktf", { type: "DeprecationWarning", code: "DEP0005" }, cdktfStack],
    ["a deprecation without a code from cdktf", { type: "DeprecationWarning" }, cdktfStack],
    ["another warning type with the same code", { type: "ExperimentalWarning", code: "DEP0044" }, cdktfStack],
    ["DEP0044 with no stack", deprecation, ""],
  ])("kept: %s", (_label, warning, stack) => {
    // GIVEN a warning that is not cdktf's util.isArray deprecation WHEN judged THEN it is printed
    expect(isCdktfIsArrayDeprecation(warning, stack)).toBe(false);
  });

  test("the caller is the first frame outside Node's own code", () => {
    expect(callerFrame(cdktfStack)).toMatch(/TerraformOutput\.isITerraformAddressable/);
    expect(callerFrame("Error\n    at node:internal/x:1:1")).toBeUndefined();
  });

  test.each([
    [["text"], { type: "Warning", code: undefined }],
    [["text", "DeprecationWarning", "DEP0044"], deprecation],
    [["text", { type: "DeprecationWarning", code: "DEP0044" }], deprecation],
    [[Object.assign(new Error("text"), { name: "DeprecationWarning", code: "DEP0044" })], deprecation],
    [[new Error("text"), "ExperimentalWarning"], { type: "ExperimentalWarning", code: undefined }],
  ])("reads every call form of process.emitWarning: %j", (args, expected) => {
    expect(describeWarning(args)).toEqual(expected);
  });
});

describe("in a Node process with the entry points' first import", () => {
  let dir: string;
  beforeAll(() => {
    execFileSync(process.execPath, [join(ROOT, "scripts", "build.mjs")], { cwd: ROOT });
    dir = mkdtempSync(join(tmpdir(), "gitlab-oidc-warnings-"));
    // A stand-in cdktf package and a file outside it, each calling deprecated APIs the way cdktf does.
    const calls = `
      const util = require("node:util");
      exports.simulated = () => util.deprecate(() => {}, "The util.isArray API is deprecated", "DEP0044")();
      exports.isArray = () => util.isArray([]);
      exports.other = () => util.deprecate(() => {}, "another deprecation", "DEP9999")();
      exports.warn = () => process.emitWarning("something else", "Warning");
    `;
    mkdirSync(join(dir, "node_modules", "cdktf", "lib"), { recursive: true });
    writeFileSync(join(dir, "node_modules", "cdktf", "lib", "calls.js"), calls);
    writeFileSync(join(dir, "own-calls.js"), calls);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** stderr of a process that loads src/runtime/entry first, then runs `script`. */
  const stderrOf = (script: string) => {
    const run = spawnSync(
      process.execPath,
      ["--require", join(ROOT, "dist", "src", "runtime", "entry.js"), "-e", script],
      { cwd: dir, encoding: "utf8", env: { ...process.env, NODE_OPTIONS: "" } },
    );
    expect(run.status).toBe(0);
    return run.stderr;
  };
  const fromCdktf = `require("./node_modules/cdktf/lib/calls.js")`;
  const fromOwn = `require("./own-calls.js")`;

  test("cdktf's DEP0044 is silent, and cdktf's other warnings are printed", () => {
    // GIVEN the stand-in cdktf raising DEP0044, another deprecation and a plain warning
    // WHEN they run after the entry points' first import
    const stderr = stderrOf(`const c = ${fromCdktf}; c.simulated(); c.other(); c.warn();`);
    // THEN only DEP0044 is missing
    expect(stderr).not.toContain("DEP0044");
    expect(stderr).toContain("[DEP9999] DeprecationWarning: another deprecation");
    expect(stderr).toContain("Warning: something else");
  });

  test('cdktf\'s DEP0044 stays silent while the synth formats token stacks as "" (its prepareStackTrace hook)', () => {
    // GIVEN the hook src/synth.ts installs around the synth: stacks of non-Errors format as ""
    const hook = `Error.prepareStackTrace = (e, frames) => (e instanceof Error ? String(e) : "");`;
    // WHEN cdktf raises DEP0044 under it, and other code does too
    // THEN cdktf's is still recognised by its caller, and the other is printed
    expect(stderrOf(`${hook} ${fromCdktf}.simulated();`)).not.toContain("DEP0044");
    expect(stderrOf(`${hook} ${fromOwn}.simulated();`)).toContain("[DEP0044]");
  });

  test("DEP0044 from anywhere else is printed", () => {
    expect(stderrOf(`${fromOwn}.simulated();`)).toContain(
      "[DEP0044] DeprecationWarning: The util.isArray API is deprecated",
    );
  });

  test(`Node ${process.version}: the real util.isArray from cdktf is silent, from elsewhere as Node decides`, () => {
    // GIVEN this Node's own util.isArray (deprecated at run time from Node 22)
    // WHEN cdktf calls it THEN nothing is printed
    expect(stderrOf(`${fromCdktf}.isArray();`)).toBe("");
    // WHEN other code calls it THEN Node's warning is printed where Node prints one
    const fromElsewhere = stderrOf(`${fromOwn}.isArray();`);
    if (NODE_MAJOR >= 22) expect(fromElsewhere).toContain("[DEP0044]");
    else expect(fromElsewhere).toBe("");
  });
});
