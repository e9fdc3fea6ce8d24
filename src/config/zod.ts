/**
 * zod as the tool uses it: zod/mini, with English messages and without zod's JIT.
 *
 * - zod/mini: the same checks, parsers, messages and JSON schema as classic zod, but a schema object
 *   carries ~10 methods instead of ~80 closures, so building the config's schema (every run that parses
 *   a config, and every test file) costs about a quarter (docs/performance.md). Classic's chains become
 *   functions: `z.optional(s)`, `z._default(s, v)`, `s.check(z.minLength(1), z.regex(re))`, and
 *   `meta(s, m)` below for classic's `.meta(m)`.
 * - English messages: classic zod loads them by itself, mini does not.
 * - No JIT: zod compiles an object schema's parser with `new Function` on the schema's first parse,
 *   which pays off only over many parses of one schema; a run parses the config and the lock once
 *   (measured: ~5 ms less start-up on the example, no change reading 5,000 roles). Same results.
 */
import * as z from "zod/mini";

z.config(z.locales.en());
z.config({ jitless: true });

/**
 * Whether meta() attaches metadata. Only the JSON schema reads it (src/config/json-schema.ts, which
 * asks for it through ./schema-metadata.ts before the schema is built); every other run builds the
 * schema without the 65 copies it takes (~0.5 ms of the main job's start-up). The checks are the same.
 */
let metadataWanted = false;
/** Whether meta() has run without attaching metadata: then asking for it comes too late. */
let builtWithoutMetadata = false;

/** Makes meta() attach metadata; fails when a schema was already built without it. */
export function keepSchemaMetadata(): void {
  if (builtWithoutMetadata) {
    throw new Error(
      "the config schema was built before its JSON-schema metadata was asked for: import src/config/schema-metadata.ts (or json-schema.ts) before src/config/schema.ts",
    );
  }
  metadataWanted = true;
}

/**
 * Classic zod's `schema.meta(metadata)` where metadata is wanted (above): a copy of `schema` carrying
 * `metadata` for the JSON schema, made exactly as classic makes it, so the published schema is unchanged.
 * Otherwise `schema` itself.
 */
export function meta<T extends z.ZodMiniType>(schema: T, metadata: z.core.GlobalMeta): T {
  if (!metadataWanted) {
    builtWithoutMetadata = true;
    return schema;
  }
  const copy = schema.clone();
  z.globalRegistry.add(copy, metadata);
  return copy;
}

export { z };
