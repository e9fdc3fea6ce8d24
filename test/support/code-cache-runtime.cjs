// jest's runtime, with V8's code cache kept per worker: jest compiles every module again for each test
// file (each file gets its own module registry and context), ~3 s of the unit tier's CPU for the same
// sources (cdktf, the provider classes, zod, our own). The first compile of a source in a worker keeps
// V8's cached data; later compiles of the same text take it, and V8 checks the text's hash itself (a
// rejected cache is replaced). The rest is jest-runtime's own createScriptFromCode.
const { compileFunction, SyntheticModule } = require("node:vm");
const Runtime = require("jest-runtime").default;

/** File name → the text last compiled for it and V8's cached data for that text (this worker's only). */
const codeCache = new Map();

class CodeCacheRuntime extends Runtime {
  createScriptFromCode(scriptSource, filename) {
    const vmContext = this._environment.getVmContext();
    if (vmContext == null) return null;
    const scriptFilename = this._resolver.isCoreModule(filename) ? `jest-nodejs-core-${filename}` : filename;
    const entry = codeCache.get(scriptFilename);
    const cachedData = entry?.source === scriptSource ? entry.data : undefined;
    let compiled;
    try {
      compiled = compileFunction(scriptSource, this.constructInjectedModuleParameters(), {
        filename: scriptFilename,
        cachedData,
        produceCachedData: cachedData === undefined,
        importModuleDynamically: async (specifier) => {
          if (typeof SyntheticModule !== "function") {
            throw new Error("You need to run with a version of node that supports ES Modules in the VM API.");
          }
          const module = await this.resolveModule(specifier, scriptFilename, vmContext);
          return this.linkAndEvaluateModule(module);
        },
        parsingContext: vmContext,
      });
    } catch {
      // jest's own path, for its handling of a syntax error
      return super.createScriptFromCode(scriptSource, filename);
    }
    if (cachedData !== undefined && compiled.cachedDataRejected) codeCache.delete(scriptFilename);
    else if (compiled.cachedDataProduced)
      codeCache.set(scriptFilename, { source: scriptSource, data: compiled.cachedData });
    return compiled;
  }
}

module.exports = CodeCacheRuntime;
