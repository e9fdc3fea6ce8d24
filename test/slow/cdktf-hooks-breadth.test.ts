// The unit tier's cdktf comparisons (test/cdktf-hooks.test.ts) again, drawing every random case
// (test/support/breadth.ts).
process.env.TEST_BREADTH = "full";
// eslint-disable-next-line @typescript-eslint/no-require-imports
require("../cdktf-hooks.test");
