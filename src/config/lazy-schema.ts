/**
 * The config's schema (./schema.ts), built on first use. Building its zod schemas is 3–5 ms of every
 * start-up (8–10 ms before zod/mini: ./zod.ts), and a run whose config the parse cache has read
 * before (./cached-config.ts: every account item and the settings around them) parses nothing with it.
 * Modules on the main job's path take the schema from here; their type imports of ./schema cost nothing.
 */
export function configSchemas(): typeof import("./schema") {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- built on first use (above)
  return require("./schema") as typeof import("./schema");
}
