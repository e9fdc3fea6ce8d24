/**
 * Keys a config or lock must not use, judged on the parsed key (so `"_\x5fproto__"`, `'__proto__'`,
 * flow maps and merged maps are all the same key): JavaScript gives them a meaning, and a schema
 * library reading a map drops or misreads them, so a Deny policy under such a name would vanish unseen.
 */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(["__proto__", "constructor", "prototype"]);

export function forbiddenKeyMessage(key: string): string {
  return `a key named ${JSON.stringify(key)} is not allowed (JavaScript gives it a meaning, and it could be dropped unseen); rename or remove it`;
}

/**
 * Whether parsed data holds a forbidden key at any depth (own keys, iteratively), or an object whose
 * prototype was replaced: what a reader that cannot see key spellings checks before trusting a result.
 */
export function hasForbiddenKey(data: unknown): boolean {
  const stack: unknown[] = [data];
  while (stack.length > 0) {
    const value = stack.pop();
    if (typeof value !== "object" || value === null) continue;
    if (Array.isArray(value)) {
      stack.push(...(value as unknown[]));
      continue;
    }
    const prototype: unknown = Object.getPrototypeOf(value);
    if (prototype !== Object.prototype && prototype !== null) return true;
    for (const key of Object.keys(value)) {
      if (FORBIDDEN_KEYS.has(key)) return true;
      stack.push((value as Record<string, unknown>)[key]);
    }
  }
  return false;
}
