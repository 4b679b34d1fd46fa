import { describe, expect, it } from 'vitest';
import { decideAcquire, decideRelease, decideRenew, type Holder } from './semaphore-rules.js';

const LEASE = 60_000;
const h = (id: string, expiresAt: number): Holder => ({ id, acquiredAt: 0, renewedAt: 0, expiresAt });

describe('reboot semaphore rules', () => {
  it('grants a free slot with a lease', () => {
    const d = decideAcquire({ capacity: 2, holders: [] }, { id: 'n1', leaseMs: LEASE, windowOpen: true }, 1000);
    expect(d).toMatchObject({ granted: true, newlyAcquired: true, holder: { id: 'n1', expiresAt: 61_000 } });
  });

  it('denies a new holder when the group is full', () => {
    const d = decideAcquire({ capacity: 1, holders: [h('n1', 5000)] }, { id: 'n2', leaseMs: LEASE, windowOpen: true }, 1000);
    expect(d).toMatchObject({ granted: false, reason: 'lock_unavailable' });
  });

  it('is recursive: the same id acquiring twice holds one slot and renews its lease', () => {
    const d = decideAcquire({ capacity: 1, holders: [h('n1', 5000)] }, { id: 'n1', leaseMs: LEASE, windowOpen: true }, 1000);
    expect(d).toMatchObject({ granted: true, newlyAcquired: false, holder: { expiresAt: 61_000 } });
    expect(d.holders).toHaveLength(1);
  });

  it('lets a holder keep its slot after the window closes, but admits no newcomer', () => {
    const state = { capacity: 3, holders: [h('n1', 5000)] };
    expect(decideAcquire(state, { id: 'n1', leaseMs: LEASE, windowOpen: false }, 1000).granted).toBe(true);
    expect(decideAcquire(state, { id: 'n2', leaseMs: LEASE, windowOpen: false }, 1000)).toMatchObject({
      granted: false,
      reason: 'outside_maintenance_window',
    });
  });

  it('frees the slot of a holder whose lease ran out', () => {
    const d = decideAcquire({ capacity: 1, holders: [h('dead', 999)] }, { id: 'n2', leaseMs: LEASE, windowOpen: true }, 1000);
    expect(d).toMatchObject({ granted: true, newlyAcquired: true });
    expect(d.expired.map((x) => x.id)).toEqual(['dead']);
    expect(d.holders.map((x) => x.id)).toEqual(['n2']);
  });

  it('never counts more live holders than capacity, whatever the order of requests', () => {
    let holders: Holder[] = [];
    let now = 0;
    for (let i = 0; i < 500; i++) {
      now += 100;
      const id = `n${(i * 7919) % 23}`;
      const op = i % 5;
      if (op === 4) holders = decideRelease({ capacity: 3, holders }, id, now).holders;
      else {
        const d = decideAcquire({ capacity: 3, holders }, { id, leaseMs: 1000 + (i % 3) * 500, windowOpen: i % 11 !== 0 }, now);
        holders = d.holders;
      }
      expect(holders.filter((x) => x.expiresAt > now).length).toBeLessThanOrEqual(3);
      expect(new Set(holders.map((x) => x.id)).size).toBe(holders.length);
    }
  });

  it('renews only a live slot of the same owner', () => {
    expect(decideRenew({ capacity: 1, holders: [h('n1', 5000)] }, { id: 'n1', leaseMs: LEASE }, 1000)).toMatchObject({ granted: true });
    expect(decideRenew({ capacity: 1, holders: [h('n1', 500)] }, { id: 'n1', leaseMs: LEASE }, 1000)).toMatchObject({ granted: false });
    expect(decideRenew({ capacity: 2, holders: [h('n1', 5000)] }, { id: 'n2', leaseMs: LEASE }, 1000)).toMatchObject({ granted: false });
  });

  it('releases only the owner slot, and releasing a slot not held is a no-op', () => {
    const state = { capacity: 2, holders: [h('n1', 5000), h('n2', 5000)] };
    const r = decideRelease(state, 'n1', 1000);
    expect(r.released).toBe(true);
    expect(r.holders.map((x) => x.id)).toEqual(['n2']);
    expect(decideRelease(state, 'n3', 1000)).toMatchObject({ released: false });
  });
});
