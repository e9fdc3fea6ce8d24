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
    const error = [new Error("here"), Error.captureStackTrace(plain)][0] as Error; // line 61 of this file
    const frameLine = (stack: string) => /jest-harness\.test\.ts:(\d+):/.exec(stack.split("\n")[1]!)?.[1];
    expect(frameLine(error.stack!)).toBe("61");
    // The compiled line: what an unmapped frame says (swc's output has other line numbers).
    expect(frameLine(plain.stack)).not.toBe("61");
  });
});
