/**
 * TEST SUPPORT: a seeded pseudo-random generator (mulberry32), so that random edits and sweeps are the
 * same on every run: `seeded(25)(n)` is an integer in [0, n). No other import: cheap for any test file.
 */
export function seeded(seed: number): (n: number) => number {
  let state = seed >>> 0;
  return (n) => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
}

/** A random string: fewer than `most` of `pieces`, each picked by `random`, joined. */
export function randomText(random: (n: number) => number, pieces: readonly string[], most: number): string {
  return Array.from({ length: random(most) }, () => pieces[random(pieces.length)]).join("");
}
