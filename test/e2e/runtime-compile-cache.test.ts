/**
 * The compile cache every entry point turns on (src/runtime/compile-cache.ts): on Node ≥ 22.1 under the
 * nearest node_modules/.cache, outside the repository's tracked files; on Node 20, which has none,
 * nothing. Runs on whatever Node runs jest, so `scripts/test-node-versions.mjs` covers 22 and 24.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { COMPILE_CACHE_SUBDIR, nearestNodeModules } from "../../src/runtime/compile-cache";

const ROOT = join(__dirname, "..", "..");
const [major, minor] = process.versions.node.split(".").map(Number);
const HAS_COMPILE_CACHE = major > 22 || (major === 22 && minor >= 1);

describe("nearestNodeModules", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "gitlab-oidc-cache-"));
    mkdirSync(join(dir, "node_modules"));
    mkdirSync(join(dir, "dist", "src", "runtime"), { recursive: true });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("finds the node_modules beside the installed code, walking up", () => {
    // GIVEN compiled code three levels below a project with node_modules
    // WHEN the cache looks for its home THEN it is that project's node_modules
    expect(nearestNodeModules(join(dir, "dist", "src", "runtime"))).toBe(join(dir, "node_modules"));
  });
});

describe(`enableCompileCache on Node ${process.version}`, () => {
  let dir: string;
  beforeAll(() => {
    execFileSync(process.execPath, [join(ROOT, "scripts", "build.mjs")], { cwd: ROOT });
    dir = mkdtempSync(join(tmpdir(), "gitlab-oidc-cache-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** What enableCompileCache() returns in a fresh process with `env`. */
  const enabledIn = (env: NodeJS.ProcessEnv) => {
    const script = `process.stdout.write(JSON.stringify(require(${JSON.stringify(
      join(ROOT, "dist", "src", "runtime", "compile-cache.js"),
    )}).enableCompileCache() ?? null))`;
    const clean: NodeJS.ProcessEnv = { ...process.env, NODE_OPTIONS: "" };
    delete clean.NODE_COMPILE_CACHE;
    delete clean.NODE_DISABLE_COMPILE_CACHE;
    return JSON.parse(
      execFileSync(process.execPath, ["-e", script], { env: { ...clean, ...env } }).toString(),
    );
  };

  test(
    HAS_COMPILE_CACHE
      ? "caches under the project's node_modules/.cache"
      : "has no compile cache to turn on, and says so by returning nothing",
    () => {
      // GIVEN this Node WHEN an entry point starts THEN the cache is node_modules/.cache/… (Node ≥ 22.1)
      // or there is none (Node 20: the run goes on uncached)
      expect(enabledIn({})).toBe(
        HAS_COMPILE_CACHE ? join(nearestNodeModules(join(ROOT, "dist"))!, COMPILE_CACHE_SUBDIR) : null,
      );
    },
  );

  test("honours NODE_COMPILE_CACHE and NODE_DISABLE_COMPILE_CACHE where Node has a compile cache", () => {
    // GIVEN Node's own variables WHEN an entry point starts THEN Node's choice wins
    const chosen = enabledIn({ NODE_COMPILE_CACHE: dir });
    if (HAS_COMPILE_CACHE) expect(chosen).toContain(dir);
    else expect(chosen).toBeNull();
    expect(enabledIn({ NODE_DISABLE_COMPILE_CACHE: "1" })).toBeNull();
  });
});
