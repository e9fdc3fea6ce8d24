/**
 * zod as the tool uses it: without its JIT. zod compiles an object schema's parser with `new Function`
 * on the schema's first parse, which pays off only over many parses of one schema; a run parses the
 * config and the lock once (measured: ~5 ms less start-up on the example, no change reading 5,000 roles).
 * Same results either way (zod's own option, `jitless`).
 */
import { z } from "zod";

z.config({ jitless: true });

export { z };
