/**
 * `node dist/main.js`: scripts/build.mjs bundles this file into dist/main.js, one small file. It turns on
 * the warning filter (./warnings.ts) and runs the main job's build (./launch.ts), which turns on Node's
 * compile cache for the per-file build only: the bundle has its own code cache (./bundle-cache.ts), and
 * nothing a bundle loads is left for Node's (turning it on cost 0.15–1 ms of every start-up).
 * One file, not the six modules it imports: each module Node loads costs ~0.5–1 ms of every start-up
 * (resolving, reading and compiling it), ~4 ms of the main job's ~90 ms on Node 22 and 24.
 */
import { launchMain } from "./launch";
import { silenceCdktfDeprecation } from "./warnings";

silenceCdktfDeprecation();
// The launcher's own directory, dist/, where both builds of the main job are.
launchMain(__dirname);
