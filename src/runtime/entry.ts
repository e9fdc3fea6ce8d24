/**
 * The first import of every command's entry point (synth, explain, schema, bench, and the resolve and
 * audit commands): `import "./src/runtime/entry";` with the path relative to the entry file, before any
 * other import, so it runs before cdktf and the rest are loaded.
 *
 * - Silences exactly cdktf's `util.isArray` deprecation (DEP0044, printed by Node ≥ 22) and no other
 *   warning (./warnings.ts).
 * - Turns on Node's compile cache for the modules loaded after it (./compile-cache.ts).
 */
import { enableCompileCache } from "./compile-cache";
import { silenceCdktfDeprecation } from "./warnings";

silenceCdktfDeprecation();
enableCompileCache();
