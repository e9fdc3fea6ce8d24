// jest's runtime (with ./code-cache-runtime.cjs's code cache), sharing the modules that are not the
// tests' own among the test files a worker runs: cdktf, zod, the provider classes and the tool's src/ are
// evaluated once per worker, not once per file, and their code stays warm. jest evaluates every module
// again for each file; in the unit tier that was about half of the CPU (one file requiring all the others
// ran in 17 s of CPU against 30 s).
//
// What stays per file: the test file, its set-up files and everything under test/ (test support modules
// may hold per-file state or register hooks at load), jest-circus and expect, and in a file that mocks
// modules (jest.mock and the like) every module its mocks could reach (a mocked dependency would be baked
// into a shared module): the tool's own when it mocks the tool's files, all when it mocks a package.
// Sharing needs one context for the files (./shared-environment.cjs): a module made in one file's context
// would otherwise hand the next file objects of another realm (instanceof Error false, and so on).
const { sep } = require("node:path");
const CodeCacheRuntime = require("./code-cache-runtime.cjs");

/** jest's calls that change which modules a file gets, with the module named when it is a string. */
const MODULE_CALL =
  /\bjest\s*\.\s*(mock|doMock|unmock|dontMock|setMock|isolateModules|isolateModulesAsync|resetModules|enableAutomock)\s*\(\s*(?:(["'`])([^"'`]*)\2)?/g;
const MOCKS_ONE = new Set(["mock", "doMock", "unmock", "dontMock", "setMock"]);

/**
 * What a test file shares, from its source: "all" (modules outside test/); "dependencies" (those in
 * node_modules) when it mocks only the tool's own files by relative path, which no dependency requires;
 * "none" when it mocks a package or resets modules.
 */
function sharingOf(source) {
  const calls = [...source.matchAll(MODULE_CALL)];
  if (calls.length === 0) return "all";
  return calls.every(([, call, , module]) => MOCKS_ONE.has(call) && module?.startsWith("."))
    ? "dependencies"
    : "none";
}

/**
 * Packages of jest's own (loaded into each file's context with jest-circus and expect) that hold no state
 * and set nothing on the global when loaded: shared too. jest-circus, expect, jest-snapshot, jest-util,
 * jest-each, graceful-fs, source-map-support and @jest/transform keep per-file state, so they stay per file.
 */
const STATELESS_JEST_DEPENDENCIES = new Set([
  ...["semver", "pure-rand", "source-map", "braces", "picomatch", "micromatch", "fill-range"],
  ...["to-regex-range", "is-number", "pretty-format", "jest-diff", "@jest/diff-sequences"],
  ...["jest-matcher-utils", "@jest/get-type", "@jest/expect-utils", "@jest/snapshot-utils", "ci-info"],
  ...["ansi-styles", "react-is", "@babel/helper-validator-identifier", "@babel/code-frame", "js-tokens"],
  ...["picocolors", "escape-string-regexp", "slash", "natural-compare", "stack-utils", "jest-regex-util"],
  ...["jest-message-util", "co", "dedent", "is-generator-fn", "buffer-from", "yocto-queue", "p-limit"],
]);

const NODE_MODULES = `${sep}node_modules${sep}`;

/** The package a file in node_modules belongs to (the innermost), else undefined. */
function packageOf(path) {
  const at = path.lastIndexOf(NODE_MODULES);
  if (at === -1) return undefined;
  const [first, second] = path.slice(at + NODE_MODULES.length).split(sep);
  return first.startsWith("@") ? `${first}/${second}` : first;
}

/** Per project: the shared registries and source maps, and the runtime of the file running now. */
const projects = new Map();

/** A Map whose keys `isShared` accepts live in `shared`, the rest in a map of its own; `clear` clears only those. */
class SplitMap {
  constructor(shared, isShared) {
    this.shared = shared;
    this.own = new Map();
    this.isShared = isShared;
  }
  pick(key) {
    return typeof key === "string" && this.isShared(key) ? this.shared : this.own;
  }
  get(key) {
    return this.pick(key).get(key);
  }
  set(key, value) {
    this.pick(key).set(key, value);
    return this;
  }
  has(key) {
    return this.pick(key).has(key);
  }
  delete(key) {
    return this.pick(key).delete(key);
  }
  clear() {
    this.own.clear();
  }
  get size() {
    return this.shared.size + this.own.size;
  }
  keys() {
    return [...this.shared.keys(), ...this.own.keys()][Symbol.iterator]();
  }
  values() {
    return [...this.shared.values(), ...this.own.values()][Symbol.iterator]();
  }
  entries() {
    return [...this.shared.entries(), ...this.own.entries()][Symbol.iterator]();
  }
  forEach(fn) {
    for (const [key, value] of this.entries()) fn(value, key, this);
  }
  [Symbol.iterator]() {
    return this.entries();
  }
}

class SharedModulesRuntime extends CodeCacheRuntime {
  constructor(config, environment, resolver, transformer, cacheFS, coverageOptions, testPath, globalConfig) {
    super(config, environment, resolver, transformer, cacheFS, coverageOptions, testPath, globalConfig);
    if (environment.sharedAcrossFiles !== true) return;
    let project = projects.get(config.id);
    if (!project) {
      project = { registry: new Map(), internal: new Map(), sourceMaps: new Map(), current: this };
      projects.set(config.id, project);
    }
    // Even a file that shares nothing is the one running now: a shared module a global still reaches
    // (cdktf's token map) requires through it.
    project.current = this;
    const sharing = sharingOf(this.readFile(testPath));
    this._sharing = sharing !== "none";
    if (!this._sharing) return;
    this._project = project;
    const testDir = `${config.rootDir}${sep}test${sep}`;
    const isShared = (path) =>
      !path.startsWith(testDir) && (sharing === "all" || path.includes(NODE_MODULES));
    this._moduleRegistry = new SplitMap(project.registry, isShared);
    this._sourceMapRegistry = new SplitMap(project.sourceMaps, isShared);
    this._isSharedPath = isShared;
    const isSharedInternal = (path) => STATELESS_JEST_DEPENDENCIES.has(packageOf(path));
    this._internalModuleRegistry = new SplitMap(project.internal, isSharedInternal);
    this._isSharedInternalPath = isSharedInternal;
  }

  // A shared module keeps the `require` it was loaded with: it resolves through the runtime of the file
  // running now (the one that loaded it is torn down), so a lazy require still works.
  _createRequireImplementation(from, options) {
    const own = super._createRequireImplementation(from, options);
    if (!this._sharing) return own;
    const internal = options?.isInternalModule === true;
    if (!(internal ? this._isSharedInternalPath : this._isSharedPath)(from.filename)) return own;
    const project = this._project;
    const moduleRequire = internal
      ? (moduleName) => project.current.requireInternalModule(from.filename, moduleName)
      : (moduleName) => project.current.requireModuleOrMock(from.filename, moduleName);
    const resolve = (moduleName, resolveOptions) =>
      project.current._requireResolve(from.filename, moduleName, resolveOptions);
    resolve.paths = (moduleName) => project.current._requireResolvePaths(from.filename, moduleName);
    moduleRequire.extensions = own.extensions;
    moduleRequire.resolve = resolve;
    moduleRequire.cache = own.cache;
    Object.defineProperty(moduleRequire, "main", { enumerable: true, value: own.main });
    return moduleRequire;
  }
}

module.exports = SharedModulesRuntime;
