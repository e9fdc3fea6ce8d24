/**
 * The text cdktf writes with json-stable-stringify (manifest.json, each stack's metadata.json, a JSON
 * stack's cdk.tf.json, all as `stringify(value, { space: 2 })`): every object's keys sorted by code unit,
 * two spaces per level, an empty array or object still broken over two lines. The main job's bundle
 * calls this in its place (scripts/bundle.mjs), so json-stable-stringify and the ten small modules it
 * requires (get-intrinsic, call-bind, …) are not run at every start-up. Same bytes:
 * test/stable-json.test.ts compares both on manifests and random data, test/e2e/bundle.test.ts the
 * bundle's output with the per-file build's, which calls json-stable-stringify.
 */

/** `value` as json-stable-stringify writes it with two spaces; undefined where it writes nothing. */
export function stableJson(value: unknown, level = 0): string | undefined {
  const node = hasToJson(value) ? value.toJSON() : value;
  if (typeof node !== "object" || node === null) return JSON.stringify(node) as string | undefined;
  const indent = `\n${"  ".repeat(level)}`;
  const inner = `${indent}  `;
  if (Array.isArray(node)) {
    const items = node.map((item) => inner + (stableJson(item, level + 1) ?? "null"));
    return `[${items.join(",")}${indent}]`;
  }
  const members: string[] = [];
  for (const key of Object.keys(node).sort()) {
    const text = stableJson((node as Record<string, unknown>)[key], level + 1);
    if (text !== undefined) members.push(`${inner}${JSON.stringify(key)}: ${text}`);
  }
  return `{${members.join(",")}${indent}}`;
}

const hasToJson = (value: unknown): value is { toJSON(): unknown } =>
  typeof (value as { toJSON?: unknown } | null)?.toJSON === "function";

/**
 * json-stable-stringify as cdktf calls it, `stringify(value, { space: 2 })`, which the bundle puts in its
 * place; any other options fail the synth, since this writes only what two spaces give.
 */
export function stableStringify(value: unknown, options?: { space?: unknown }): string | undefined {
  if (options?.space !== 2 || Object.keys(options).length !== 1) {
    throw new Error(
      `stableStringify: cdktf called json-stable-stringify with ${JSON.stringify(options)}, not { space: 2 } (scripts/bundle.mjs)`,
    );
  }
  return stableJson(value);
}
