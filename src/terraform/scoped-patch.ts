/**
 * Runs `work` with `target[key]` set to `value`, and puts the previous value back when `work` returns or
 * throws: how the cdktf hooks (cdktf-hooks.ts) replace one of cdktf's functions for one call only.
 */
export function withReplaced<T extends object, K extends keyof T, R>(
  target: T,
  key: K,
  value: T[K],
  work: () => R,
): R {
  const previous = target[key];
  target[key] = value;
  try {
    return work();
  } finally {
    target[key] = previous;
  }
}
