import { describe, expect, it } from 'vitest';
import { BUCKETS, bucketLimit, bucketOf, linearFraction, waveOf } from './waves.js';

describe('stable wave assignment', () => {
  const ids = Array.from({ length: 10_000 }, (_, i) => `node-${i.toString(36)}`);

  it('gives a node the same bucket every time, within 0..9999', () => {
    for (const id of ids.slice(0, 100)) {
      expect(bucketOf(id)).toBe(bucketOf(id));
      expect(bucketOf(id)).toBeGreaterThanOrEqual(0);
      expect(bucketOf(id)).toBeLessThan(BUCKETS);
    }
  });

  it('spreads nodes so each wave holds about its share', () => {
    const waves = [1, 10, 50, 100];
    const counts = [0, 0, 0, 0];
    for (const id of ids) counts[waveOf(bucketOf(id), waves)]++;
    expect(counts[0]).toBeGreaterThan(50);
    expect(counts[0]).toBeLessThan(160);
    expect(counts[0] + counts[1]).toBeGreaterThan(900);
    expect(counts[0] + counts[1]).toBeLessThan(1100);
    expect(counts[0] + counts[1] + counts[2]).toBeGreaterThan(4800);
    expect(counts.reduce((a, b) => a + b)).toBe(10_000);
  });

  it('never shuffles: cumulative waves only add nodes, and a fleet that grows keeps old assignments', () => {
    const waves = [5, 25, 100];
    const before = new Map(ids.slice(0, 500).map((id) => [id, waveOf(bucketOf(id), waves)]));
    for (const [id, w] of before) expect(waveOf(bucketOf(id), waves)).toBe(w);
    const inWave = (k: number) => new Set(ids.filter((id) => bucketOf(id) < bucketLimit(waves[k])));
    const w0 = inWave(0);
    const w1 = inWave(1);
    for (const id of w0) expect(w1.has(id)).toBe(true);
    for (const id of w0) expect(waveOf(bucketOf(id), waves)).toBe(0);
  });

  it('puts every bucket in the last wave at 100%', () => {
    expect(waveOf(BUCKETS - 1, [1, 100])).toBe(1);
    expect(waveOf(0, [1, 100])).toBe(0);
    expect(bucketLimit(100)).toBe(BUCKETS);
  });
});

describe('linearFraction', () => {
  it('ramps from 0 at the start to 1 after the duration', () => {
    expect(linearFraction(1000, 100, 999)).toBe(0);
    expect(linearFraction(1000, 100, 1000)).toBe(0);
    expect(linearFraction(1000, 100, 51_000)).toBeCloseTo(0.5);
    expect(linearFraction(1000, 100, 101_000)).toBe(1);
    expect(linearFraction(1000, 100, 1e9)).toBe(1);
    expect(linearFraction(1000, 0, 1000)).toBe(1);
  });
});
