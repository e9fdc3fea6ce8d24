import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { createContext } from "node:vm";

// eslint-disable-next-line @typescript-eslint/no-require-imports -- the CommonJS module jest itself loads
const CodeCacheRuntime = require("./support/code-cache-runtime.cjs") as {
  prototype: { createScriptFromCode(source: string, filename: string): CompiledModule | null };
};

type CompiledModule = ((...args: unknown[]) => unknown) & {
  cachedDataProduced?: boolean;
  cachedDataRejected?: boolean;
};

/** What createScriptFromCode reads of a jest Runtime: a context, the resolver, the module parameters. */
function runtimeLike() {
  const context = createContext({});
  return {
    _environment: { getVmContext: () => context },
    _resolver: { isCoreModule: () => false },
    constructInjectedModuleParameters: () => ["module", "exports", "require", "__dirname", "__filename"],
  };
}

const compile = (source: string, filename: string) =>
  CodeCacheRuntime.prototype.createScriptFromCode.call(runtimeLike(), source, filename)!;

describe("the test runtime's code cache (test/support/code-cache-runtime.cjs)", () => {
  test("GIVEN a module compiled for one test file WHEN another file compiles the same text THEN V8 takes the cached data", () => {
    const first = compile("module.exports = 40 + 2;", "/virtual/same.js");
    expect(first.cachedDataProduced).toBe(true);
    const second = compile("module.exports = 40 + 2;", "/virtual/same.js");
    expect(second.cachedDataRejected).toBe(false);
    const module = { exports: undefined as unknown };
    second(module, {}, undefined, "/virtual", "/virtual/same.js");
    expect(module.exports).toBe(42);
  });

  test("GIVEN a file whose text changed WHEN compiled again THEN the old data is not offered, and the new text runs", () => {
    compile("module.exports = 1;", "/virtual/changed.js");
    const changed = compile("module.exports = 2;", "/virtual/changed.js");
    expect(changed.cachedDataRejected).toBeUndefined();
    const module = { exports: undefined as unknown };
    changed(module, {}, undefined, "/virtual", "/virtual/changed.js");
    expect(module.exports).toBe(2);
  });

  test("GIVEN a torn-down environment THEN nothing is compiled, as jest's own runtime does", () => {
    const torn = { ...runtimeLike(), _environment: { getVmContext: () => null } };
    expect(CodeCacheRuntime.prototype.createScriptFromCode.call(torn, "1", "/virtual/torn.js")).toBeNull();
  });
});

describe("stack traces under jest (test/setup.ts)", () => {
  test("GIVEN a plain object, as cdktf captures a token's creation stack, THEN it gets V8's own format", () => {
    const captured = { stack: "" };
    Error.captureStackTrace(captured);
    expect(captured.stack).toMatch(/^Error\n {4}at /);
  });

  test("GIVEN an error and a plain object made on one line THEN only the error's frame is mapped to the source", () => {
    const plain = { stack: "" };
    const error = [new Error("here"), Error.captureStackTrace(plain)][0] as Error; // both made here
    const line = readFileSync(__filename, "utf8")
      .split("\n")
      .findIndex((text) => text.endsWith("// both made here"));
    const frameLine = (stack: string) => /jest-harness\.test\.ts:(\d+):/.exec(stack.split("\n")[1]!)?.[1];
    expect(frameLine(error.stack!)).toBe(String(line + 1));
    // The compiled line: what an unmapped frame says (swc's output has other line numbers).
    expect(frameLine(plain.stack)).not.toBe(String(line + 1));
  });
});

// eslint-disable-next-line @typescript-eslint/no-require-imports -- the CommonJS module the global set-up imports
const scratch = require("./support/scratch-dir.cjs") as {
  MIN_FREE_BYTES: number;
  scratchParent(
    env: Record<string, string | undefined>,
    ramDirs: string[],
    minFree: number,
    mounted?: (dir: string) => boolean,
  ): string;
  isMountPoint(dir: string): boolean;
  pruneStaleScratch(parent: string): void;
  makeScratch(parent: string): string;
};

describe("the run's temporary directory (test/support/scratch-dir.cjs)", () => {
  let parent: string;
  beforeEach(() => (parent = mkdtempSync(join(tmpdir(), "scratch-test-"))));
  afterEach(() => rmSync(parent, { recursive: true, force: true }));

  test("GIVEN this test run THEN TMPDIR is the run's own directory, which the teardown removes", () => {
    expect(process.env.GITLAB_OIDC_TEST_SCRATCH).toBeDefined();
    expect(tmpdir()).toBe(process.env.GITLAB_OIDC_TEST_SCRATCH);
    expect(basename(tmpdir())).toMatch(/^gitlab-oidc-aws-jest-\d+-/);
  });

  test("GIVEN GITLAB_OIDC_TEST_TMPDIR THEN it is the parent; else a mounted RAM directory only with room, else the system's", () => {
    const mounted = () => true;
    expect(scratch.scratchParent({ GITLAB_OIDC_TEST_TMPDIR: "/chosen" }, [parent], 0, mounted)).toBe(
      "/chosen",
    );
    expect(scratch.scratchParent({}, [parent], 0, mounted)).toBe(parent);
    expect(scratch.scratchParent({}, [parent], Number.MAX_SAFE_INTEGER, mounted)).toBe(tmpdir());
    expect(scratch.scratchParent({}, [join(parent, "missing")], 0, mounted)).toBe(tmpdir());
    // A plain directory where a tmpfs is expected (/dev/shm in a chroot that bound /dev alone)
    expect(scratch.scratchParent({}, [parent], 0)).toBe(tmpdir());
    expect(scratch.MIN_FREE_BYTES).toBeGreaterThanOrEqual(1024 ** 3);
  });

  test("GIVEN a file system's root THEN it is a mount point; a directory inside it is not", () => {
    expect(scratch.isMountPoint("/")).toBe(false); // its parent is itself
    expect(scratch.isMountPoint("/proc")).toBe(true);
    expect(scratch.isMountPoint(parent)).toBe(false);
  });

  test("GIVEN directories of earlier runs WHEN pruned THEN those whose jest is gone go, the rest stay", () => {
    // GIVEN a run of this (live) process, one of a process that has exited, and someone else's directory
    const live = scratch.makeScratch(parent);
    const gone = spawnSync(process.execPath, ["-e", "0"]).pid!;
    const stale = join(parent, `gitlab-oidc-aws-jest-${gone}-abc123`);
    mkdirSync(join(stale, "cdktf.outdir.x"), { recursive: true });
    const foreign = join(parent, "someone-elses");
    mkdirSync(foreign);
    // WHEN pruned
    scratch.pruneStaleScratch(parent);
    // THEN only the exited run's directory is removed
    expect(readdirSync(parent).sort()).toEqual([basename(live), "someone-elses"].sort());
  });
});
