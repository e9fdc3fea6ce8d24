import { Lazy } from "cdktf";
import { withoutTokenCreationStacks } from "../src/synth";

describe("withoutTokenCreationStacks", () => {
  test("GIVEN cdktf tokens made inside WHEN they record their creation stack THEN it is empty", () => {
    const token = withoutTokenCreationStacks(() => Lazy.anyValue({ produce: () => "x" }));
    expect(token.creationStack).toEqual([]);
  });

  test("GIVEN a token made outside THEN its creation stack is recorded as before", () => {
    expect(Lazy.anyValue({ produce: () => "x" }).creationStack.length).toBeGreaterThan(0);
  });

  test("GIVEN an Error made inside WHEN its stack is read THEN it is formatted as usual", () => {
    const stack = withoutTokenCreationStacks(() => new Error("boom").stack);
    expect(stack).toMatch(/^Error: boom\n {4}at /);
  });

  test("GIVEN work that throws THEN the error propagates and Error.prepareStackTrace is restored", () => {
    const before = Error.prepareStackTrace;
    expect(() =>
      withoutTokenCreationStacks(() => {
        throw new Error("inside");
      }),
    ).toThrow("inside");
    expect(Error.prepareStackTrace).toBe(before);
  });
});
