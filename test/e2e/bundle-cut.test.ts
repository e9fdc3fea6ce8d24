/**
 * A module the bundle cuts (scripts/bundle.mjs CUT_MODULES) fails loudly where a run reaches it: loading
 * it and listing its export names (cdktf's `export *`) still work, but reading an export, calling or
 * constructing it throws an error naming the module. The unit is a script, so it runs in a child.
 */
import { join } from "node:path";
import { runOk } from "../support/run";

const BUNDLER = join(__dirname, "..", "..", "scripts", "bundle.mjs");

/** What happens to a cut module `cdktf/lib/testing (cut for the test)` exporting `Testing`. */
function exercise(): Record<string, unknown> {
  const script = `
import { CUT_MODULES, LAZY_REQUIRE, cutEsModuleSource, cutModuleSource } from ${JSON.stringify(BUNDLER)};
const module = { exports: {} };
new Function("module", cutModuleSource("cdktf/lib/testing (cut for the test)", ["Testing"]))(module);
const m = module.exports;
// TypeScript's __exportStar/__createBinding, as cdktf/lib/index.js re-exports its modules
const o = {};
for (const k in m) {
  if (k === "default" || Object.prototype.hasOwnProperty.call(o, k)) continue;
  let desc = Object.getOwnPropertyDescriptor(m, k);
  if (!desc || ("get" in desc ? !m.__esModule : desc.writable || desc.configurable)) {
    desc = { enumerable: true, get: () => m[k] };
  }
  Object.defineProperty(o, k, desc);
}
// An ES module cut (zod's locales): the names stay, calling one throws
const esm = await import("data:text/javascript," + encodeURIComponent(
  cutEsModuleSource("zod/v4/locales (cut for the test)", [{ name: "ar", from: "./ar.js" }, { name: "az", from: "./az.js" }], []),
));
// A lazy require: nothing loaded until first use, then properties and calls reach the module
const lazy = [];
const lazyRequire = new Function(LAZY_REQUIRE + "; return __lazyRequire;")();
const fn = Object.assign((x) => "called " + x, { satisfies: (v) => "satisfies " + v });
const lazyModule = lazyRequire(() => { lazy.push("loaded"); return fn; });
lazy.push("created");
lazy.push(lazyModule.satisfies("1.5.0"), lazyModule("x"), "satisfies" in lazyModule);
const attempt = (f) => { try { f(); return "no error"; } catch (e) { return e.message; } };
process.stdout.write(JSON.stringify({
  listed: Object.keys(o),
  esModule: m.__esModule ?? null,
  read: attempt(() => o.Testing),
  call: attempt(() => m("zip")),
  construct: attempt(() => new m()),
  write: attempt(() => { m.Testing = 1; }),
  cuts: CUT_MODULES.map((cut) => cut.module),
  esCall: attempt(() => esm.ar()),
  esNames: Object.keys(esm),
  lazy,
}));
`;
  return JSON.parse(runOk(process.execPath, ["--input-type=module", "-e", script]).stdout);
}

test("a cut module loads and lists its names, and throws naming itself when reached", () => {
  // GIVEN a cut module WHEN loaded, re-exported and then used
  const seen = exercise();
  // THEN loading and listing worked, and every use threw, naming the module and what to do
  expect(seen.listed).toEqual(["Testing"]);
  expect(seen.esModule).toBeNull();
  for (const use of ["read", "call", "construct", "write"]) {
    expect(seen[use]).toMatch(
      /^gitlab-oidc-aws: this run reached cdktf\/lib\/testing \(cut for the test\), which the bundle cut \(.+\)\. Run the unbundled build instead \(GITLAB_OIDC_UNBUNDLED=1/,
    );
  }
  expect(seen.read).toContain("read of Testing");
  expect(seen.esNames).toEqual(["ar", "az"]);
  expect(seen.esCall).toMatch(
    /^gitlab-oidc-aws: this run reached zod\/v4\/locales \(cut for the test\), which the bundle cut \(call of ar\)/,
  );
  // AND a module required lazily is loaded on first use, once, and works as the module
  expect(seen.lazy).toEqual(["created", "loaded", "satisfies 1.5.0", "called x", true]);
  // AND what is cut is archiver (zipping assets), cdktf's testing helpers and zod's locales, nothing else
  expect(seen.cuts).toEqual([
    expect.stringMatching(/^archiver /),
    expect.stringMatching(/^cdktf\/lib\/testing /),
    expect.stringMatching(/^cdktf\/lib\/testing\/matchers /),
    expect.stringMatching(/^zod\/v4\/locales /),
  ]);
});

test("cdktf's asserts load node:assert only when one fails, and then throw what node:assert throws", () => {
  // GIVEN cdktf's terraform-resource.js as the bundle patches it, and a module that uses assert otherwise
  const script = `
import { withAssertLoadedOnFailure } from ${JSON.stringify(BUNDLER)};
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
const require = createRequire(${JSON.stringify(join(__dirname, "..", "..", "package.json"))});
const file = require.resolve("cdktf/lib/terraform-resource.js");
const patched = withAssertLoadedOnFailure(file, readFileSync(file, "utf8"));
// The patched module's assert, as its code sees it, with the module's require watched
const loads = [];
const watched = (name) => { loads.push(name); return require(name); };
const declared = "const assert = __assertLoadedOnFailure;";
const helper = patched.slice(0, patched.indexOf("var _a;"));
const check = new Function("require", helper + declared + " return assert;")(watched);
const declaredOnce = patched.split(declared).length === 2;
const attempt = (f) => { try { f(); return "passed"; } catch (e) { return e.name + " " + e.code + ": " + e.message; } };
const results = [attempt(() => check(true, "never")), attempt(() => check.ok(1, "never")), loads.length];
results.push(attempt(() => check(false, "forEach and count are both set")), attempt(() => check.ok(0, "m")), loads);
const refused = attempt(() => withAssertLoadedOnFailure("x.js", 'const a = require("assert");\\na.deepEqual(1, 2);\\n'));
process.stdout.write(JSON.stringify({ strict: patched.startsWith('"use strict";'), declaredOnce, results, refused }));
`;
  // WHEN its checks pass and fail
  const seen = JSON.parse(runOk(process.execPath, ["--input-type=module", "-e", script]).stdout);
  // THEN passing checks loaded nothing, a failing one threw node:assert's AssertionError with cdktf's message
  expect(seen.results).toEqual([
    "passed",
    "passed",
    0,
    "AssertionError ERR_ASSERTION: forEach and count are both set",
    "AssertionError ERR_ASSERTION: m",
    ["assert", "assert"],
  ]);
  // AND the file stays strict, and any other use of assert fails the build
  expect(seen.strict).toBe(true);
  expect(seen.declaredOnce).toBe(true);
  expect(seen.refused).toMatch(/x\.js: a is used other than as a\(…\) or a\.ok\(…\): a\.dee/);
});

test("cdktf's index loads a module when one of its names is first read, and lists every name as before", () => {
  // GIVEN cdktf/lib/index.js as the bundle patches it, run with its require watched
  const script = `
import { withLazyReexports } from ${JSON.stringify(BUNDLER)};
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
const file = createRequire(${JSON.stringify(join(__dirname, "..", "..", "package.json"))}).resolve("cdktf/lib/index.js");
const requireCdktf = createRequire(file);
const real = requireCdktf("./index.js");
const loads = [];
const watched = (request) => { loads.push(request); return requireCdktf(request); };
const module = { exports: {} };
new Function("exports", "require", "module", withLazyReexports(file, readFileSync(file, "utf8")))(module.exports, watched, module);
const lazy = module.exports;
const atLoad = [...loads];
const stack = lazy.TerraformStack;
const afterRead = loads.slice(atLoad.length);
const names = Object.keys(real).filter((name) => name !== "testingMatchers");
const differing = names.filter((name) => !/^(Testing|testingMatchers)$/.test(name) && lazy[name] !== real[name]);
const attempt = (f) => { try { f(); return "no error"; } catch (e) { return e.message; } };
process.stdout.write(JSON.stringify({
  atLoad, afterRead, same: stack === real.TerraformStack, keys: Object.keys(lazy), realKeys: Object.keys(real), differing,
  refused: attempt(() => withLazyReexports(file, readFileSync(file, "utf8").replace('__exportStar(require("./aspect"), exports);', ""))),
}));
`;
  // WHEN it is loaded, one name is read, and then every name
  const seen = JSON.parse(runOk(process.execPath, ["--input-type=module", "-e", script]).stdout);
  // THEN loading it ran only its environment check and the eager testing matchers
  expect(seen.atLoad).toEqual(["./validateEnvironment", "./testing/matchers"]);
  // AND reading TerraformStack loaded its module alone, the very class the real index exports
  expect(seen.afterRead).toEqual(["./terraform-stack"]);
  expect(seen.same).toBe(true);
  // AND the names are the real index's, in its order, each the same value
  expect(seen.keys).toEqual(seen.realKeys);
  expect(seen.differing).toEqual([]);
  // AND an index whose names the patch would not list fails the build
  expect(seen.refused).toMatch(
    /cdktf[\\/]lib[\\/]index\.js: the lazy re-exports would not list the index's exports/,
  );
});
