// The unit tier's parse cache tests (test/config-parse-cache.test.ts) again, drawing every random edit
// and every random damage (test/support/breadth.ts).
process.env.TEST_BREADTH = "full";
// eslint-disable-next-line @typescript-eslint/no-require-imports
require("../config-parse-cache.test");
