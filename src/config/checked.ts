/**
 * The configs that passed every check of the loader (src/config/load.ts), by identity. The incremental
 * synth records, with each account's stack, whether its config had (src/synth-cache.ts, `checked`): only
 * then may a later run skip that account's checks on the same inputs. A config built in code, or one
 * that skipped the loader, never vouches for its accounts. (Configs are readonly data: one changed after
 * its checks would be a bug of the code that changed it.)
 */
import type { Config } from "./schema";

const checked = new WeakSet<Config>();

/** Marks `config` as having passed every check; returns it. */
export function markChecked<T extends Config>(config: T): T {
  checked.add(config);
  return config;
}

/** Whether `config` came out of the loader's checks. */
export function passedChecks(config: Config): boolean {
  return checked.has(config);
}
