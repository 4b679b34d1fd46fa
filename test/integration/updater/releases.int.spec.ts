import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GRAPH_METADATA, type ReleaseView, type UpdateGraph } from '#contracts/updater';
import { eventually } from '../../support/infra.js';
import { UpdaterHarness, signedPayload } from './harness.js';

describe('updater: releases and the update graph', () => {
  const h = new UpdaterHarness();
  const events: string[] = [];

  beforeAll(async () => {
    await h.setUp({ inventory: false });
    h.client.nc.subscribe(h.client.subjects.event('updater', '>'), {
      callback: (_e, m) => void events.push(m.subject.split('.events.')[1]),
    });
  });
  afterAll(async () => {
    await h.tearDown();
  });

  it('creates a release and reads it back by id and by (channel, arch, version)', async () => {
    const created = await h.createRelease('100.0.0', { notes: 'first' });
    expect(created).toMatchObject({ version: '100.0.0', channel: 'stable', arch: 'x86_64', notes: 'first', withdrawn: null, barrier: null });
    expect(created.rollout).not.toBeNull();
    await expect(h.call('getRelease', { id: created.id })).resolves.toEqual(created);
    await expect(h.call('getRelease', { channel: 'stable', arch: 'x86_64', version: '100.0.0' })).resolves.toEqual(created);
    await eventually(() => events.includes('updater.release.created'));
  });

  it('keeps releases immutable: publishing the same version again is a conflict', async () => {
    const err = await h.callError('createRelease', { version: '100.0.0', channel: 'stable', arch: 'x86_64', payload: signedPayload('other') });
    expect(err.code).toBe('conflict');
    const again = (await h.call<ReleaseView>('getRelease', { channel: 'stable', arch: 'x86_64', version: '100.0.0' })).payload;
    expect(again.sha256).toBe(signedPayload('100.0.0').sha256);
  });

  it('rejects malformed releases with typed validation errors', async () => {
    const bad = [
      { version: 'v1', channel: 'stable', arch: 'x86_64', payload: signedPayload('x') },
      { version: '1.0.0', channel: 'stable', arch: 'x86_64', payload: { ...signedPayload('x'), sha256: 'zz' } },
      { version: '1.0.0', channel: 'stable', arch: 'x86_64', payload: { ...signedPayload('x'), url: 'ftp://x/y' } },
      { version: '1.0.0', channel: 'stable', arch: 'x86_64', payload: { ...signedPayload('x'), signature: 'short' } },
      { version: '1.0.0', channel: 'Stable!', arch: 'x86_64', payload: signedPayload('x') },
    ];
    for (const body of bad) expect((await h.callError('createRelease', body)).code).toBe('validation_failed');
    expect((await h.callError('getRelease', { id: 'not-a-uuid' })).code).toBe('validation_failed');
    expect((await h.callError('getRelease', { id: '00000000-0000-4000-8000-000000000000' })).code).toBe('not_found');
  });

  it('lists releases newest first with paging, hiding withdrawn ones unless asked', async () => {
    await h.createRelease('100.1.0');
    const r2 = await h.createRelease('100.2.0');
    await h.call('withdrawRelease', { id: r2.id, reason: 'bad kernel' });
    const page1 = await h.call<{ items: ReleaseView[]; nextCursor: string | null }>('listReleases', { channel: 'stable', limit: 1 });
    expect(page1.items.map((r) => r.version)).toEqual(['100.1.0']);
    const page2 = await h.call<{ items: ReleaseView[]; nextCursor: string | null }>('listReleases', { channel: 'stable', limit: 1, cursor: page1.nextCursor });
    expect(page2.items.map((r) => r.version)).toEqual(['100.0.0']);
    const all = await h.call<{ items: ReleaseView[] }>('listReleases', { channel: 'stable', includeWithdrawn: true });
    expect(all.items.find((r) => r.version === '100.2.0')?.withdrawn).toMatchObject({ reason: 'bad kernel' });
    await eventually(() => events.includes('updater.release.withdrawn'));
  });

  it('serves the Cincinnati graph per (channel, arch) with barriers, dead ends and withdrawn releases applied', async () => {
    const rel = (version: string, extra = {}) => h.createRelease(version, { channel: 'beta', arch: 'aarch64', ...extra });
    await rel('1.0.0');
    await rel('1.1.0', { deadEnd: { reason: 'breaks NFS mounts' } });
    await rel('1.2.0');
    await rel('2.0.0', { barrier: { reason: 'new bootloader' } });
    const withdrawn = await rel('2.1.0');
    await rel('2.2.0');
    await h.call('withdrawRelease', { id: withdrawn.id, reason: 'oops' });
    await h.createRelease('9.0.0', { channel: 'beta', arch: 'x86_64' }); // other arch: not in this graph

    const g = await h.call<UpdateGraph>('graph', { channel: 'beta', arch: 'aarch64' });
    const v = g.nodes.map((n) => n.version);
    expect(v).toEqual(['1.0.0', '1.1.0', '1.2.0', '2.0.0', '2.2.0']);
    const edges = g.edges.map(([f, t]) => `${v[f]}->${v[t]}`).sort();
    expect(edges).toEqual(['1.0.0->1.1.0', '1.0.0->1.2.0', '1.0.0->2.0.0', '1.2.0->2.0.0', '2.0.0->2.2.0']);
    expect(g.nodes[1].metadata[GRAPH_METADATA.deadEnd]).toBe('true');
    expect(g.nodes[3].metadata[GRAPH_METADATA.barrier]).toBe('true');
    expect(g.nodes[0].payload).toBe(signedPayload('1.0.0').sha256);
    expect((await h.callError('graph', { channel: 'beta' })).code).toBe('validation_failed');
  });

  it('holds back a ramping release from wary clients', async () => {
    const start = new Date(Date.now() - 10 * 60_000).toISOString();
    await h.createRelease('1.0.0', { channel: 'ramp', rollout: null });
    await h.createRelease('1.1.0', { channel: 'ramp', rollout: { startAt: start, startValue: 0, durationMinutes: 100 } });
    const eager = await h.call<UpdateGraph>('graph', { channel: 'ramp', arch: 'x86_64', wariness: 0.05 });
    const wary = await h.call<UpdateGraph>('graph', { channel: 'ramp', arch: 'x86_64', wariness: 0.9 });
    expect(eager.edges).toEqual([[0, 1]]);
    expect(wary.edges).toEqual([]);
  });

  it('lists dead ends and flags nodes running one', async () => {
    const d = await h.call<{ items: Array<{ version: string }> }>('deadEnds', { channel: 'beta' });
    expect(d.items.map((x) => x.version)).toEqual(['1.1.0']);
    const flags = await h.call<{ items: Array<{ id: string; deadEnd: { reason: string } | null }> }>('flagNodes', {
      nodes: [
        { id: 'a', channel: 'beta', arch: 'aarch64', version: '1.1.0' },
        { id: 'b', channel: 'beta', arch: 'aarch64', version: '1.2.0' },
      ],
    });
    expect(flags.items).toEqual([
      { id: 'a', deadEnd: { reason: 'breaks NFS mounts' } },
      { id: 'b', deadEnd: null },
    ]);
  });
});
