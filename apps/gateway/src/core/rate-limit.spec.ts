import { describe, expect, it } from 'vitest';
import { TokenBuckets } from './rate-limit.js';

describe('TokenBuckets', () => {
  it('allows a burst of `capacity`, then refills at the sustained rate', () => {
    const buckets = new TokenBuckets({ capacity: 3, refillPerSecond: 2 });
    const t0 = 1_000_000;
    expect([buckets.take('a', t0), buckets.take('a', t0), buckets.take('a', t0)]).toEqual([0, 0, 0]);
    expect(buckets.take('a', t0)).toBe(1); // retry in about a second
    expect(buckets.take('a', t0 + 499)).toBeGreaterThan(0);
    expect(buckets.take('a', t0 + 500)).toBe(0); // one token after half a second
    expect(buckets.take('a', t0 + 500)).toBeGreaterThan(0);
  });

  it('keeps one budget per client', () => {
    const buckets = new TokenBuckets({ capacity: 1, refillPerSecond: 1 });
    expect(buckets.take('10.0.0.1', 0)).toBe(0);
    expect(buckets.take('10.0.0.1', 0)).toBe(1);
    expect(buckets.take('10.0.0.2', 0)).toBe(0);
  });

  it('forgets refilled buckets so memory stays bounded', () => {
    const buckets = new TokenBuckets({ capacity: 2, refillPerSecond: 1 }, 3);
    for (const ip of ['a', 'b', 'c']) buckets.take(ip, 0);
    buckets.take('d', 10_000); // full table: sweep drops the three refilled ones
    expect(buckets.size).toBe(1);
    for (const ip of ['e', 'f', 'g', 'h']) buckets.take(ip, 10_000);
    expect(buckets.size).toBeLessThanOrEqual(3);
  });
});
