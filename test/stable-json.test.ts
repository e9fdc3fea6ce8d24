/**
 * src/terraform/stable-json.ts writes what cdktf writes with json-stable-stringify (`{ space: 2 }`), which
 * the main job's bundle calls in its place (scripts/bundle.mjs). The bundle's output against the per-file
 * build's: test/e2e/bundle.test.ts (HCL), test/slow/bundle-breadth.test.ts (JSON output too).
 */
import { dirname } from "node:path";
import { stableJson, stableStringify } from "../src/terraform/stable-json";
import { seeded } from "./support/seeded";

// cdktf's own copy, the one its Manifest calls.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const jsonStableStringify = require(
  require.resolve("json-stable-stringify", { paths: [dirname(require.resolve("cdktf"))] }),
) as (value: unknown, options: { space: number }) => string | undefined;

/** Random JSON-like data: what a manifest holds, and the cases where key order and emptiness differ. */
function randomValue(random: (n: number) => number, depth: number): unknown {
  const keys = ["b", "a", "10", "9", "2", "__proto__", "é", "Z", "a b", '"q"', ""];
  switch (depth > 3 ? random(4) : random(7)) {
    case 0:
      return ["production", "x\ny", "ü\u2028", ""][random(4)];
    case 1:
      return [0, -1.5, 1e21, 42][random(4)];
    case 2:
      return [true, false, null][random(3)];
    case 3:
      return random(5) === 0 ? undefined : "s";
    case 4:
      return Array.from({ length: random(4) }, () => randomValue(random, depth + 1));
    case 5: {
      const object: Record<string, unknown> = {};
      for (let i = random(5); i > 0; i--) {
        Object.defineProperty(object, keys[random(keys.length)]!, {
          value: randomValue(random, depth + 1),
          enumerable: true,
          configurable: true,
          writable: true,
        });
      }
      return object;
    }
    default: {
      const inner = randomValue(random, depth + 1);
      return { toJSON: () => ({ z: 1, y: [inner] }) };
    }
  }
}

describe("stableJson: json-stable-stringify's text, two spaces", () => {
  test("GIVEN 500 random values (numeric and odd keys, empty arrays and objects, undefined, toJSON) THEN the same text", () => {
    const random = seeded(41);
    for (let i = 0; i < 500; i++) {
      const value = randomValue(random, 0);
      expect(stableJson(value)).toBe(jsonStableStringify(value, { space: 2 }));
    }
  });

  test("GIVEN a manifest of two stacks THEN keys sorted at every level, empty arrays over two lines", () => {
    const manifest = {
      version: "0.21.0",
      stacks: {
        staging: { name: "staging", annotations: [], dependencies: [] },
        production: { name: "production", annotations: [], dependencies: [] },
      },
    };
    const text = stableJson(manifest);
    expect(text).toBe(jsonStableStringify(manifest, { space: 2 }));
    expect(text).toMatch(/^{\n {2}"stacks": {\n {4}"production": {\n {6}"annotations": \[\n {6}\],/);
  });

  test("GIVEN other options than { space: 2 } THEN it fails, naming them, instead of writing other bytes", () => {
    expect(stableStringify({ b: 1, a: [] }, { space: 2 })).toBe(
      jsonStableStringify({ b: 1, a: [] }, { space: 2 }),
    );
    expect(() => stableStringify({}, { space: 4 })).toThrow(/\{"space":4\}, not \{ space: 2 \}/);
    expect(() => stableStringify({}, { space: 2, cycles: true } as { space: number })).toThrow(/cycles/);
    expect(() => stableStringify({})).toThrow(/undefined, not \{ space: 2 \}/);
  });
});
