// jest's Node environment, one per project per worker instead of one per test file: the files a worker
// runs one after another share one context (one globalThis, one set of built-ins), so the modules they
// share (./shared-modules-runtime.cjs) see the same Object, Array and Error as each file's own code.
// Each file still gets jest's own state afresh (jest-circus, expect, the `jest` object, its console);
// process.env is put back to what the environment started with before each file, and fake timers are
// uninstalled after it.
const { TestEnvironment } = require("jest-environment-node");

/** The global properties jest-circus and expect set for each file (symbols by their description). */
const JEST_PER_FILE = new Set([
  ...["afterAll", "afterEach", "beforeAll", "beforeEach", "describe", "it", "test"],
  ...["fdescribe", "fit", "xdescribe", "xit", "xtest", "expect"],
  ...["JEST_STATE_SYMBOL", "EVENT_HANDLERS", "TEST_TIMEOUT_SYMBOL", "$$jest-matchers-object"],
  ...["RETRY_TIMES", "RETRY_IMMEDIATELY", "WAIT_BEFORE_RETRY", "LOG_ERRORS_BEFORE_RETRY"],
]);

/** This worker's environment of each project, by the project's id. */
const environments = new Map();

class SharedContextEnvironment extends TestEnvironment {
  /** Read by the runtime: the environment is the same for every file of the project in this worker. */
  sharedAcrossFiles = true;

  constructor(config, context) {
    const existing = environments.get(config.projectConfig.id);
    // A derived constructor may return another object instead of calling super: jest gets the same one.
    if (existing) return existing;
    super(config, context);
    environments.set(config.projectConfig.id, this);
    this.initialEnv = { ...this.global.process.env };
    this.initialExit = this.global.process.exit;
    this.baseline = new Set(Reflect.ownKeys(this.global));
  }

  async setup() {
    // Whatever a file left in process.env is not the next file's: the same object, its first contents.
    const env = this.global.process.env;
    for (const key of Object.keys(env)) if (!(key in this.initialEnv)) delete env[key];
    Object.assign(env, this.initialEnv);
  }

  async teardown() {
    // jest's own teardown would drop the context the next file needs; only the timers go back to real.
    this.fakeTimers?.useRealTimers();
    this.fakeTimersModern?.useRealTimers();
    // jest-runner wraps process.exit for each file; the next file wraps the original, not this file's.
    this.global.process.exit = this.initialExit;
    // What jest-circus and expect keep on the global for one file goes with it: its tests and the running
    // one, its event handlers (they report to that file), jest.setTimeout's and retryTimes' settings, the
    // matchers' state. Each file sets them afresh; left behind, the next file would report to this one's.
    // Globals the shared modules set (cdktf's token map, the HCL parser's Go runtime) stay with them.
    for (const key of Reflect.ownKeys(this.global)) {
      const name = typeof key === "symbol" ? key.description : key;
      if (!this.baseline.has(key) && JEST_PER_FILE.has(name)) delete this.global[key];
    }
  }
}

module.exports = SharedContextEnvironment;
module.exports.TestEnvironment = SharedContextEnvironment;
