/**
 * TEST SUPPORT: modules the tests never reach, cut from jest's module registry as scripts/bundle.mjs
 * cuts them from the bundles (CUT_MODULES there): jest loads every module again for each test file, so
 * a module loaded and never used costs its load time in every file. jest.config.mjs maps each request to
 * a file here (moduleNameMapper). A cut module throws, naming itself, as soon as anything reads, calls
 * or constructs it: a test that reaches one fails saying so, it never runs without it unnoticed.
 */
"use strict";

/** A module that throws on any use; reading `__esModule` or a symbol (interop helpers do) is allowed. */
function cutModule(module) {
  const reached = (how) => {
    throw new Error(
      `test run reached ${module}, which jest.config.mjs cuts from the tests (${how}): ` +
        "remove it from the cut modules (test/support/cut/) if a test needs it",
    );
  };
  return new Proxy(function cut() {}, {
    get(_target, key) {
      if (typeof key === "symbol" || key === "__esModule") return undefined;
      return reached(`read of ${String(key)}`);
    },
    apply: () => reached("call"),
    construct: () => reached("new"),
    set: (_target, key) => reached(`write of ${String(key)}`),
  });
}

module.exports = { cutModule };
