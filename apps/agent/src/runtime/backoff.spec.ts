import { describe, expect, it } from 'vitest';
import { backoffDelay } from './backoff.js';

const options = { initialMs: 100, maxMs: 5000, factor: 2 };

describe('backoffDelay', () => {
  it('grows exponentially between half and the full base delay', () => {
    expect(backoffDelay(0, options, () => 0)).toBe(50);
    expect(backoffDelay(0, options, () => 1)).toBe(100);
    expect(backoffDelay(3, options, () => 0)).toBe(400);
    expect(backoffDelay(3, options, () => 1)).toBe(800);
  });

  it('never exceeds the cap, however many attempts', () => {
    for (const attempt of [6, 10, 100, 10_000]) {
      expect(backoffDelay(attempt, options, () => 1)).toBe(5000);
      expect(backoffDelay(attempt, options, () => 0)).toBe(2500);
    }
  });

  it('spreads retries of many agents across the window', () => {
    const delays = new Set(Array.from({ length: 200 }, () => backoffDelay(4, options)));
    expect(delays.size).toBeGreaterThan(50);
    for (const d of delays) expect(d).toBeGreaterThanOrEqual(800);
  });
});
