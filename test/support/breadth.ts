/**
 * TEST SUPPORT: how many random cases a sweep draws. The unit tier draws a few (issue 23: unit tests in
 * 10 s), the same first cases of the same seeds; the slow tier runs the same test file again with
 * TEST_BREADTH=full (test/slow/*-breadth.test.ts) and draws them all. Every promise keeps its fast test;
 * the slow tier only adds breadth.
 */
export const FULL_BREADTH = process.env.TEST_BREADTH === "full";

/** `full` cases in the slow tier, `fast` in the unit tier. */
export const breadth = (full: number, fast: number): number => (FULL_BREADTH ? full : fast);
