// A small seeded generator (mulberry32): the same seed gives the same sequence on every machine, so a
// failing random test or a mutation sample can be rerun from its printed seed.

/**
 * @param {number} seed a 32-bit integer
 * @returns {() => number} numbers in [0, 1)
 */
export function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
