import { describe, expect, it } from 'vitest';
import { HelloAgainLimiter } from './hello-again.js';

describe('HelloAgainLimiter', () => {
  it('allows one notice per node per interval', () => {
    const limiter = new HelloAgainLimiter(1000);
    expect(limiter.allow('a', 0)).toBe(true);
    expect(limiter.allow('a', 500)).toBe(false);
    expect(limiter.allow('b', 500)).toBe(true);
    expect(limiter.allow('a', 1000)).toBe(true);
  });

  it('forgets a node that said hello, and sweeps expired entries to bound memory', () => {
    const limiter = new HelloAgainLimiter(1000, 3);
    limiter.allow('a', 0);
    limiter.forget('a');
    expect(limiter.allow('a', 1)).toBe(true);
    limiter.allow('b', 2);
    limiter.allow('c', 3);
    limiter.allow('d', 5000);
    expect(limiter.size).toBe(1);
  });
});
