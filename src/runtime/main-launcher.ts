/**
 * `node dist/main.js`: scripts/build.mjs bundles this file into dist/main.js, one small file. It turns on
 * the compile cache and the warning filter (./entry.ts) and runs the main job's build (./launch.ts).
 * One file, not the six modules it imports: each module Node loads costs ~0.5–1 ms of every start-up
 * (resolving, reading and compiling it), ~4 ms of the main job's ~90 ms on Node 22 and 24.
 */
import "./entry";
import { launchMain } from "./launch";

// The launcher's own directory, dist/, where both builds of the main job are.
launchMain(__dirname);
