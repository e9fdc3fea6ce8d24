// zod/v4/locales/index.cjs (zod's error messages in ~50 languages, loaded with zod): English is kept,
// it is zod's default; the tool's messages are its own. Every other locale throws when read. See
// cut-module.cjs.
"use strict";
const { readFileSync } = require("node:fs");
const { dirname, join } = require("node:path");
const { cutModule } = require("./cut-module.cjs");

const locales = join(dirname(require.resolve("zod")), "v4", "locales");
const names = [...readFileSync(join(locales, "index.cjs"), "utf8").matchAll(/exports\.(\w+) = /g)].map(
  (m) => m[1],
);
Object.defineProperty(exports, "__esModule", { value: true });
for (const name of new Set(names)) {
  if (name === "en") exports.en = require(join(locales, "en.cjs")).default;
  else
    Object.defineProperty(exports, name, {
      enumerable: true,
      get: () => cutModule(`zod's ${name} locale`)(),
    });
}
