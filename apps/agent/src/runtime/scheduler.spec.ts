import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Scheduler } from './scheduler.js';

describe('Scheduler', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('spreads many periodic tasks evenly over the period', () => {
    const scheduler = new Scheduler({ resolutionMs: 0 });
    const runsPerSecond = new Array<number>(10).fill(0);
    for (let i = 0; i < 1000; i++) {
      scheduler.every(10_000, () => {
        runsPerSecond[Math.floor((Date.now() % 10_000) / 1000)]++;
      });
    }
    vi.advanceTimersByTime(9_999);
    expect(runsPerSecond.reduce((a, b) => a + b)).toBe(1000);
    // An even spread puts 100 runs in each second; golden-ratio phases stay within a few.
    for (const n of runsPerSecond) expect(Math.abs(n - 100)).toBeLessThanOrEqual(3);
    scheduler.stop();
  });

  it('keeps each task on its period and uses a single timer', () => {
    const scheduler = new Scheduler({ resolutionMs: 0 });
    const times: number[] = [];
    scheduler.every(1000, () => times.push(Date.now()), 250);
    for (let i = 0; i < 500; i++) scheduler.every(1000, () => undefined);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(3300);
    expect(times).toEqual([250, 1250, 2250, 3250]);
    expect(vi.getTimerCount()).toBe(1);
    scheduler.stop();
  });

  it('cancels tasks, applies a new interval from the next run, and runs one-shot tasks once', () => {
    const scheduler = new Scheduler();
    const a: number[] = [];
    const b: number[] = [];
    const once: number[] = [];
    const ta = scheduler.every(100, () => a.push(Date.now()), 100);
    const tb = scheduler.every(100, () => b.push(Date.now()), 100);
    scheduler.after(150, () => once.push(Date.now()));
    vi.advanceTimersByTime(200);
    ta.cancel();
    tb.setInterval(300);
    vi.advanceTimersByTime(800);
    expect(a).toEqual([100, 200]);
    expect(b).toEqual([100, 200, 300, 600, 900]);
    expect(once).toEqual([150]);
    scheduler.stop();
  });

  it('keeps running other tasks when one throws', () => {
    const errors: unknown[] = [];
    const scheduler = new Scheduler({ onError: (e) => errors.push(e) });
    let ran = 0;
    scheduler.every(100, () => {
      throw new Error('boom');
    }, 100);
    scheduler.every(100, () => ran++, 100);
    vi.advanceTimersByTime(300);
    expect(ran).toBe(3);
    expect(errors).toHaveLength(3);
    scheduler.stop();
  });

  it('skips runs missed during a stall instead of bunching them up', () => {
    let now = 0;
    const scheduler = new Scheduler({ now: () => now });
    const runs: number[] = [];
    scheduler.every(100, () => runs.push(now), 100);
    now = 1050; // the event loop was blocked for a second
    vi.advanceTimersByTime(100);
    expect(runs).toEqual([1050]);
    now = 1100;
    vi.advanceTimersByTime(100);
    expect(runs).toEqual([1050, 1100]);
    scheduler.stop();
  });

  it('sleep resolves after the delay, or early with false when cancelled', async () => {
    const scheduler = new Scheduler();
    const s1 = scheduler.sleep(500);
    const s2 = scheduler.sleep(500);
    s2.cancel();
    await expect(s2.done).resolves.toBe(false);
    vi.advanceTimersByTime(500);
    await expect(s1.done).resolves.toBe(true);
    scheduler.stop();
  });
});
