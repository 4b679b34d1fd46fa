import { describe, expect, it } from 'vitest';
import { Limiter } from './limiter.js';

describe('Limiter', () => {
  it('runs at most max tasks at once, in FIFO order, and keeps going after a failure', async () => {
    const limiter = new Limiter(3);
    let active = 0;
    let peak = 0;
    const order: number[] = [];
    const task = (i: number) => async () => {
      active++;
      peak = Math.max(peak, active);
      await new Promise((r) => setTimeout(r, 5));
      active--;
      order.push(i);
      if (i === 4) throw new Error('boom');
      return i;
    };
    const results = await Promise.allSettled(Array.from({ length: 12 }, (_, i) => limiter.run(task(i))));
    expect(peak).toBe(3);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(11);
    expect(order.slice(0, 3).sort()).toEqual([0, 1, 2]);
    expect(limiter.pending).toBe(0);
  });

  it('refuses a limit below one', () => {
    expect(() => new Limiter(0)).toThrow();
  });
});
