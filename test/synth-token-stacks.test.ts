import { Lazy } from "cdktf";
import { withoutTokenCreationStacksUntil } from "../src/runtime/token-stacks";
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

  test("GIVEN async work (loading modules) WHEN tokens are made before it settles THEN their stacks are empty", async () => {
    const before = Error.prepareStackTrace;
    // WHEN a token is made after an await inside the work, and another once it has settled
    const inside = await withoutTokenCreationStacksUntil(async () => {
      await Promise.resolve();
      return Lazy.anyValue({ produce: () => "x" });
    });
    const after = Lazy.anyValue({ produce: () => "x" });
    // THEN the first recorded no frames, the second did, and Error.prepareStackTrace is as it was
    expect(inside.creationStack).toEqual([]);
    expect(after.creationStack.length).toBeGreaterThan(0);
    expect(Error.prepareStackTrace).toBe(before);
    // AND a rejected load leaves it restored too
    await expect(
      withoutTokenCreationStacksUntil(() => Promise.reject(new Error("load failed"))),
    ).rejects.toThrow("load failed");
    expect(Error.prepareStackTrace).toBe(before);
  });
});
