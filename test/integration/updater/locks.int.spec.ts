import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GroupLocksView, LockReply } from '#contracts/updater';
import { encodeJson } from '#lib/messaging';
import { eventually } from '../../support/infra.js';
import { decideAcquire, decideRelease, decideRenew, type Holder } from '../../../apps/updater/src/locks/semaphore-rules.js';
import { UpdaterHarness } from './harness.js';

describe('updater: reboot semaphore', () => {
  const h = new UpdaterHarness();

  beforeAll(async () => {
    // Two replicas: requests are spread over both, so the race-freedom is across processes' pools.
    await h.setUp({ inventory: false, updaters: 2 });
  });
  afterAll(async () => {
    await h.tearDown();
  });

  const acquire = (id: string, group: string, leaseSeconds?: number) =>
    h.call<LockReply>('acquireLock', { id, group, ...(leaseSeconds ? { leaseSeconds } : {}) });
  const holders = async (group: string) =>
    (await h.call<{ items: GroupLocksView[] }>('listLocks', { group })).items[0]?.holders.map((x) => x.id).sort() ?? [];

  it('grants up to capacity under heavy concurrency and never more, sampled throughout', async () => {
    await h.call('setGroupPolicy', { group: 'race', slots: 3 });
    let sampling = true;
    let maxSeen = 0;
    const sampler = (async () => {
      while (sampling) {
        const [{ n }] = await h.sql<{ n: number }>(`SELECT count(*)::int AS n FROM updater.reboot_locks WHERE "group" = 'race' AND expires_at > now()`);
        maxSeen = Math.max(maxSeen, n);
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    // 40 contenders in rounds: all try at once, winners release, the rest try again.
    const ids = Array.from({ length: 40 }, (_, i) => `racer-${i}`);
    let granted = 0;
    let pending = ids;
    for (let round = 0; pending.length > 0 && round < 40; round++) {
      const replies = await Promise.all(pending.map((id) => acquire(id, 'race')));
      const winners = replies.filter((r) => r.granted).map((r) => r.holder);
      expect(winners.length).toBeLessThanOrEqual(3);
      expect(winners.length).toBeGreaterThan(0);
      for (const r of replies) if (!r.granted) expect(r.reason).toBe('lock_unavailable');
      granted += winners.length;
      expect((await holders('race')).length).toBeLessThanOrEqual(3);
      await Promise.all(winners.map((id) => h.call('releaseLock', { id, group: 'race' })));
      pending = pending.filter((id) => !winners.includes(id));
    }
    sampling = false;
    await sampler;
    expect(granted).toBe(40);
    expect(maxSeen).toBeLessThanOrEqual(3);
    expect(maxSeen).toBeGreaterThan(0);
  });

  it('decides exactly as the semaphore rules model does, over a random sequence of requests', async () => {
    await h.call('setGroupPolicy', { group: 'model', slots: 3 });
    let model: Holder[] = [];
    let seed = 42;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
    for (let i = 0; i < 120; i++) {
      const id = `m${rand(6)}`;
      const op = rand(3);
      const node = h.fleet.nodes.get(id) ?? h.fleet.add({ id, version: '1.0.0', group: 'model' });
      if (op === 2) {
        const expected = decideRelease({ capacity: 3, holders: model }, id, 0);
        model = expected.holders;
        const got = await node.lock('release', 'model');
        expect({ i, released: got.granted === false && got.released }).toEqual({ i, released: expected.released });
        continue;
      }
      const expected =
        op === 0
          ? decideAcquire({ capacity: 3, holders: model }, { id, leaseMs: 1e9, windowOpen: true }, 0)
          : decideRenew({ capacity: 3, holders: model }, { id, leaseMs: 1e9 }, 0);
      model = expected.holders;
      const got = await node.lock(op === 0 ? 'acquire' : 'renew', 'model');
      expect({ i, granted: got.granted, reason: got.granted ? null : got.reason, holders: got.holders }).toEqual({
        i,
        granted: expected.granted,
        reason: expected.granted ? null : expected.reason,
        holders: model.length,
      });
      if (got.granted && expected.granted) expect(got.newlyAcquired).toBe(expected.newlyAcquired);
    }
    expect(await holders('model')).toEqual(model.map((x) => x.id).sort());
  });

  it('is recursive and owned: a second acquire keeps one slot; only the owner releases it', async () => {
    const a = await acquire('owner-1', 'solo');
    const b = await acquire('owner-1', 'solo');
    expect(a).toMatchObject({ granted: true, newlyAcquired: true, capacity: 1 });
    expect(b).toMatchObject({ granted: true, newlyAcquired: false, holders: 1 });
    expect(await acquire('other', 'solo')).toMatchObject({ granted: false, reason: 'lock_unavailable' });
    await expect(h.call('releaseLock', { id: 'other', group: 'solo' })).resolves.toEqual({ released: false });
    expect(await holders('solo')).toEqual(['owner-1']);
    await expect(h.call('releaseLock', { id: 'owner-1', group: 'solo' })).resolves.toEqual({ released: true });
    expect(await holders('solo')).toEqual([]);
  });

  it('queues a node denied a busy slot and tells it, oldest first, when one is freed', async () => {
    const a = h.fleet.add({ id: 'q-a', version: '1.0.0', group: 'queue' });
    const b = h.fleet.add({ id: 'q-b', version: '1.0.0', group: 'queue' });
    const notices: unknown[] = [];
    h.client.nc.subscribe(h.client.subjects.node('q-b', 'update.lock'), { callback: (_e, m) => void notices.push(m.json()) });
    await h.client.nc.flush();
    expect(await a.lock('acquire')).toMatchObject({ granted: true });
    const denied = await b.lock('acquire');
    expect(denied).toMatchObject({ granted: false, reason: 'lock_unavailable' });
    expect(notices).toEqual([]);
    await a.lock('release');
    await eventually(() => notices.length === 1);
    expect(notices[0]).toEqual({ v: 1, group: 'queue', event: 'slot_free' });
    expect(await b.lock('acquire')).toMatchObject({ granted: true });
    expect(await h.sql(`SELECT * FROM updater.lock_waiters WHERE "group" = 'queue'`)).toEqual([]);
  });

  it('lets a dead holder lapse: its lease expires, the slot is reaped and granted to the next', async () => {
    expect(await acquire('dead-node', 'lease', 5)).toMatchObject({ granted: true });
    // Age the lease instead of waiting for it.
    await h.sql(`UPDATE updater.reboot_locks SET expires_at = now() - interval '1 second' WHERE holder = 'dead-node'`);
    await eventually(async () => (await h.sql(`SELECT 1 FROM updater.reboot_locks WHERE holder = 'dead-node'`)).length === 0, 5000);
    expect(await acquire('next-node', 'lease')).toMatchObject({ granted: true, newlyAcquired: true });
  });

  it('lets an admin see holders and force-release them', async () => {
    await h.call('setGroupPolicy', { group: 'admin', slots: 2 });
    await acquire('x1', 'admin');
    await acquire('x2', 'admin');
    const list = await h.call<{ items: GroupLocksView[] }>('listLocks', {});
    const admin = list.items.find((g) => g.group === 'admin')!;
    expect(admin).toMatchObject({ capacity: 2, policySource: 'policy', windowOpen: true });
    expect(admin.holders.map((x) => x.id).sort()).toEqual(['x1', 'x2']);
    await expect(h.call('forceReleaseLock', { group: 'admin', id: 'x1' })).resolves.toEqual({ released: ['x1'] });
    await expect(h.call('forceReleaseLock', { group: 'admin' })).resolves.toEqual({ released: ['x2'] });
    expect(await holders('admin')).toEqual([]);
  });

  it('grants no new slot outside the maintenance window and says when it opens', async () => {
    // A window that opened 2 hours ago for 1 hour (UTC): closed now, next one in ~22 h.
    const start = new Date(Date.now() - 2 * 3600_000);
    const hhmm = `${String(start.getUTCHours()).padStart(2, '0')}:${String(start.getUTCMinutes()).padStart(2, '0')}`;
    await h.call('setGroupPolicy', { group: 'night', slots: 5, windows: [{ start: hhmm, lengthMinutes: 60, timeZone: 'UTC' }] });
    const denied = await acquire('n1', 'night');
    expect(denied).toMatchObject({ granted: false, reason: 'outside_maintenance_window' });
    if (!denied.granted) {
      expect(denied.retryAfterSeconds).toBeGreaterThan(21 * 3600);
      expect(denied.retryAfterSeconds).toBeLessThanOrEqual(22 * 3600 + 60);
    }
    const open = new Date(Date.now() - 10 * 60_000);
    const openHhmm = `${String(open.getUTCHours()).padStart(2, '0')}:${String(open.getUTCMinutes()).padStart(2, '0')}`;
    await h.call('setGroupPolicy', { group: 'night', slots: 5, windows: [{ start: openHhmm, lengthMinutes: 60, timeZone: 'UTC' }] });
    await eventually(async () => (await acquire('n1', 'night')).granted, 5000);
  });

  it('serves agents on their own subject: the holder is the node id from the subject', async () => {
    const node = h.fleet.add({ id: 'agent-7', version: '1.0.0', group: 'agents' });
    expect(await node.lock('acquire')).toMatchObject({ granted: true, holder: 'agent-7' });
    expect(await node.lock('renew')).toMatchObject({ granted: true, newlyAcquired: false });
    expect(await holders('agents')).toEqual(['agent-7']);
    expect(await node.lock('release')).toMatchObject({ granted: false, released: true });
    expect(await node.lock('renew')).toMatchObject({ granted: false, reason: 'lock_unavailable' });
  });

  it('rejects malformed lock requests with typed errors and keeps serving', async () => {
    const subject = h.client.subjects.agent('agent-8', 'update.lock');
    const ask = async (body: unknown) => (await h.client.nc.request(subject, typeof body === 'string' ? new TextEncoder().encode(body) : encodeJson(body))).json<{ ok: boolean; error?: { code: string } }>();
    expect(await ask('{not json')).toMatchObject({ ok: false, error: { code: 'bad_request' } });
    expect(await ask({ v: 1, action: 'steal', group: 'agents' })).toMatchObject({ ok: false, error: { code: 'validation_failed' } });
    expect(await ask({ v: 1, action: 'acquire', group: 'Bad Group' })).toMatchObject({ ok: false, error: { code: 'validation_failed' } });
    expect(await ask({ v: 2, action: 'acquire', group: 'agents' })).toMatchObject({ ok: false, error: { code: 'unsupported_version' } });
    expect((await h.callError('acquireLock', { id: 'has space', group: 'g' })).code).toBe('validation_failed');
    expect(await ask({ v: 1, action: 'acquire', group: 'agents' })).toMatchObject({ ok: true, data: { granted: true } });
  });
});
