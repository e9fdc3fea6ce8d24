/**
 * The code cache of the main job's bundle where Node has no compile cache (src/runtime/bundle-cache.ts,
 * Node 20): the bundle runs as the CommonJS module `require` would make of it, the second run compiles
 * from the cache, a damaged cache is refused by V8 and replaced, and nothing is cached where Node's own
 * compile cache runs (22.1+: scripts/test-node-versions.mjs runs this file there). The unit is process
 * start-up, so each case is a child process.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const ROOT = join(__dirname, "..", "..");

let dir: string;
let cacheDir: string;
let bundle: string;
beforeAll(() => {
  execFileSync(process.execPath, [join(ROOT, "scripts", "build.mjs")], { cwd: ROOT });
  dir = mkdtempSync(join(tmpdir(), "gitlab-oidc-bundle-cache-"));
  cacheDir = join(dir, "cache");
  mkdirSync(join(dir, "app"));
  bundle = join(dir, "app", "bundle.js");
  writeFileSync(join(dir, "app", "dep.js"), "module.exports = 'dep';\n");
  writeFileSync(
    bundle,
    `const path = require("node:path");
module.exports.answer = 42;
process.stdout.write(JSON.stringify({
  filename: __filename, dirname: __dirname, cached: require.cache[__filename] === module,
  thisIsExports: this === module.exports, dep: require("./dep.js"), join: path.join("a", "b"),
}) + "\\n");
`,
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** One process running the bundle through runBundle: what the bundle saw, and how it was compiled. */
function run(env: NodeJS.ProcessEnv = {}): { seen: Record<string, unknown>; compile: string } {
  const script = `const how = require(${JSON.stringify(join(ROOT, "dist/src/runtime/bundle-cache.js"))}).runBundle(${JSON.stringify(bundle)}, module);
process.stdout.write(how + "\\n");`;
  const clean: NodeJS.ProcessEnv = { ...process.env, NODE_OPTIONS: "", NODE_COMPILE_CACHE: cacheDir };
  delete clean.NODE_DISABLE_COMPILE_CACHE;
  const [seen, compile] = execFileSync(process.execPath, ["-e", script], {
    env: { ...clean, ...env },
    encoding: "utf8",
  })
    .trim()
    .split("\n");
  return { seen: JSON.parse(seen), compile };
}

/** The code caches in the cache directory (where Node has a compile cache, its own goes there too). */
const cacheFiles = () => {
  try {
    return readdirSync(cacheDir).filter((name) => name.endsWith(".v8cache"));
  } catch {
    return [];
  }
};

test(`runs the bundle as require would, from the code cache after the first run (Node ${process.version})`, () => {
  // GIVEN a bundle and no cache yet WHEN it runs twice
  const first = run();
  const second = run();
  // THEN it saw what a required module sees, both times
  const expected = {
    filename: bundle,
    dirname: join(dir, "app"),
    cached: true,
    thisIsExports: true,
    dep: "dep",
    join: join("a", "b"),
  };
  expect(first.seen).toEqual(expected);
  expect(second.seen).toEqual(expected);
  // AND the first run compiled and wrote the cache, the second compiled from it (on every Node: the
  // cache written at exit holds the functions the run compiled, which Node's own compile cache lacks)
  expect([first.compile, second.compile]).toEqual(["compiled", "cached"]);
  expect(cacheFiles()).toEqual([`bundle.js-${process.version}-${process.arch}.v8cache`]);
});

test("a damaged cache is refused and replaced; NODE_DISABLE_COMPILE_CACHE=1 turns it off", () => {
  // GIVEN a cache file whose key fits but whose code is garbage
  run();
  const file = join(cacheDir, cacheFiles()[0]);
  const key = readFileSync(file, "utf8").split("\n")[0];
  writeFileSync(file, `${key}\n${"garbage".repeat(100)}`);
  // WHEN the bundle runs THEN V8 refused the cache, the run went on, and the next run uses a new cache
  const damaged = run();
  expect(damaged.compile).toBe("rejected");
  expect(damaged.seen.dep).toBe("dep");
  expect(run().compile).toBe("cached");
  // AND a changed bundle does not use the old cache
  writeFileSync(bundle, readFileSync(bundle, "utf8") + "\n// changed\n");
  expect(run().compile).toBe("compiled");
  // AND with the compile cache disabled nothing is cached
  expect(run({ NODE_DISABLE_COMPILE_CACHE: "1" }).compile).toBe("off");
});
