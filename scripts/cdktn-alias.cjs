/* global require, process */
/* eslint-disable @typescript-eslint/no-require-imports -- a CommonJS preload, loaded with node --require */
// `node --require scripts/cdktn-alias.cjs dist/main.js` with CDKTN_MODULES=<a node_modules holding cdktn>:
// the app gets CDK Terrain (cdktn) and @cdktn/provider-aws wherever it asks for cdktf and
// @cdktf/provider-aws, and that directory's constructs. @cdktf/provider-tls stays (there is no
// @cdktn/provider-tls) and is built on cdktn through the same mapping. Used by scripts/compare-cdktn.mjs.
const Module = require("node:module");
const path = require("node:path");

const modules = process.env.CDKTN_MODULES;
if (!modules) throw new Error("cdktn-alias: set CDKTN_MODULES to the node_modules directory holding cdktn");

const mappings = [
  ["cdktf", "cdktn"],
  ["@cdktf/provider-aws", "@cdktn/provider-aws"],
  ["constructs", "constructs"],
];
const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  for (const [from, to] of mappings) {
    if (request === from || request.startsWith(`${from}/`)) {
      return resolveFilename.call(this, path.join(modules, to + request.slice(from.length)), ...rest);
    }
  }
  return resolveFilename.call(this, request, ...rest);
};
