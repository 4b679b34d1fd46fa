import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ANY_SERVICE, Waiters, indexMoved } from './waiters.js';

describe('blocking-query index rule', () => {
  it('answers at once without an index, when it moved, or when it went backwards', () => {
    expect(indexMoved(5, undefined)).toBe(true);
    expect(indexMoved(5, 0)).toBe(true);
    expect(indexMoved(6, 5)).toBe(true);
    expect(indexMoved(3, 5)).toBe(true);
    expect(indexMoved(5, 5)).toBe(false);
  });
});

describe('Waiters', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('wakes only the waiters of the changed service whose condition holds', async () => {
    const w = new Waiters();
    let web = 1;
    let db = 1;
    const onWeb = w.wait(['web'], () => web > 1, 10_000);
    const onDb = w.wait(['db'], () => db > 1, 10_000);
    expect(w.size).toBe(2);
    web = 2;
    w.notify('web');
    await expect(onWeb).resolves.toBe('changed');
    expect(w.size).toBe(1);
    w.notify('db'); // condition still false: stays parked
    expect(w.size).toBe(1);
    db = 2;
    w.notify('db');
    await expect(onDb).resolves.toBe('changed');
  });

  it('wakes list waiters on a change of any service', async () => {
    const w = new Waiters();
    let global = 1;
    const onAny = w.wait([ANY_SERVICE], () => global > 1, 10_000);
    global = 2;
    w.notify('whatever');
    await expect(onAny).resolves.toBe('changed');
  });

  it('times out after the wait and answers everything on close', async () => {
    const w = new Waiters();
    const timed = w.wait(['web'], () => false, 1000);
    vi.advanceTimersByTime(1000);
    await expect(timed).resolves.toBe('timeout');
    const parked = w.wait(['web'], () => false, 60_000);
    w.close();
    await expect(parked).resolves.toBe('closed');
    await expect(w.wait(['web'], () => false, 60_000)).resolves.toBe('closed');
    expect(w.size).toBe(0);
  });

  it('does not park a query whose condition already holds', async () => {
    const w = new Waiters();
    await expect(w.wait(['web'], () => true, 60_000)).resolves.toBe('changed');
    expect(w.size).toBe(0);
  });
});
