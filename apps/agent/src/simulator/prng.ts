/** FNV-1a: a stable 32-bit hash of a string (node ids → seeds, phases, label choices). */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** mulberry32: a tiny seeded PRNG returning floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The PRNG a simulated feature should use for one node: seeded by the run's seed and the node id,
 * so the same `--seed` reproduces the same failures on the same nodes.
 */
export function simulationRandom(seed: number, nodeId: string): () => number {
  return mulberry32((seed ^ hash32(nodeId)) >>> 0);
}
