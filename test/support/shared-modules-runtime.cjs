// jest's runtime (with ./code-cache-runtime.cjs's code cache), sharing the modules that are not the
// tests' own among the test files a worker runs: cdktf, zod, the provider classes and the tool's src/ are
// evaluated once per worker, not once per file, and their code stays warm. jest evaluates every module
// again for each file; in the unit tier that was about half of the CPU (one file requiring all the others
// ran in 17 s of CPU against 30 s).
//
// What stays per file: the test file, its set-up files and everything under test/ (test support modules
// may hold per-file state or register hooks at load), jest's own modules, and every module of a file that
// mocks modules (jest.mock and the like: a mocked dependency would be baked into a shared module).
// Sharing needs one context for the files (./shared-environment.cjs): a module made in one file's context
// would otherwise hand the next file objects of another realm (instanceof Error false, and so on).
const { sep } = require("node:path");
const CodeCacheRuntime = require("./code-cache-runtime.cjs");

/** A test file that mocks or resets modules runs with its own registry. */
const MOCKS_MODULES =
  /\bjest\s*\.\s*(mock|doMock|unmock|dontMock|setMock|isolateModules|isolateModulesAsync|resetModules|enableAutomock)\s*\(/;

/** Per project: the shared registry and source maps, and the runtime of the file running now. */
const projects = new Map();

/** A Map whose keys outside `test/` live in `shared`, the rest in a map of its own; `clear` clears only those. */
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
    const source = this.readFile(testPath);
    this._sharing = environment.sharedAcrossFiles === true && !MOCKS_MODULES.test(source);
    if (!this._sharing) return;
    let project = projects.get(config.id);
    if (!project) {
      project = { registry: new Map(), sourceMaps: new Map(), current: this };
      projects.set(config.id, project);
    }
    project.current = this;
    this._project = project;
    const testDir = `${config.rootDir}${sep}test${sep}`;
    const isShared = (path) => !path.startsWith(testDir);
    this._moduleRegistry = new SplitMap(project.registry, isShared);
    this._sourceMapRegistry = new SplitMap(project.sourceMaps, isShared);
    this._isSharedPath = isShared;
  }

  // A shared module keeps the `require` it was loaded with: it resolves through the runtime of the file
  // running now (the one that loaded it is torn down), so a lazy require still works.
  _createRequireImplementation(from, options) {
    const own = super._createRequireImplementation(from, options);
    if (!this._sharing || options?.isInternalModule || !this._isSharedPath(from.filename)) return own;
    const project = this._project;
    const moduleRequire = (moduleName) => project.current.requireModuleOrMock(from.filename, moduleName);
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
