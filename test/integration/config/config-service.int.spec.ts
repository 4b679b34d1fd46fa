import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jetstreamManager, DeliverPolicy, AckPolicy } from '@nats-io/jetstream';
import { FleetError } from '#contracts/common';
import { bundleHash, configVerbs as v, type Bundle, type FleetStatus, type NodeConfigStatus, type RevisionView } from '#contracts/config';
import { eventually } from '../../support/infra.js';
import { InventorySync } from '../../../apps/config/src/nodes/inventory-sync.js';
import { ConfigHarness, hello } from './support.js';

const author = 'alice';
const g = { kind: 'global' } as const;

describe('config service with real PostgreSQL, NATS and inventory', () => {
  const h = new ConfigHarness();

  beforeAll(async () => {
    await h.setUp();
    await h.sayHello(hello('web-1', { group: 'web', labels: { role: 'web', zone: 'a' } }));
    await h.sayHello(hello('web-2', { group: 'web', labels: { role: 'web', zone: 'b' } }));
    await h.sayHello(hello('db-1', { group: 'db', labels: { role: 'db' } }));
    // The inventory's registration events reach config and become node rows.
    await eventually(async () => (await h.sql<{ n: number }>('SELECT count(*)::int AS n FROM config.nodes'))[0].n === 3);
  });
  afterAll(async () => {
    await h.tearDown();
  });

  it('publishes staged drafts as revision 1 and tells each node its merged bundle and hash', async () => {
    const web1 = h.notices('web-1');
    await h.call(v.draftSet, { scope: g, file: { path: '/etc/app.conf', content: 'global\n' }, author });
    await h.call(v.draftSet, { scope: { kind: 'group', group: 'web' }, file: { path: '/etc/app.conf', content: 'web\n', mode: 0o600 }, author });
    await h.call(v.draftSet, { scope: { kind: 'selector', selector: 'zone=a' }, file: { path: '/etc/zone', content: 'a' }, author });
    await h.call(v.draftSet, { scope: { kind: 'node', nodeId: 'db-1' }, file: { path: '/etc/app.conf', content: 'db-1 only' }, author });
    const drafts = await h.call<{ drafts: unknown[] }>(v.draftList);
    expect(drafts.drafts).toHaveLength(4);

    const published = await h.call<{ revision: RevisionView }>(v.publish, { author, message: 'first', expectedRevision: 0 });
    expect(published.revision).toMatchObject({ revision: 1, author, message: 'first', itemCount: 4 });
    expect((await h.call<{ drafts: unknown[] }>(v.draftList)).drafts).toEqual([]);

    const notice = await eventually(() => web1.find((n) => n.revision === 1));
    const bundle = await h.bundle('web-1');
    expect(bundle.revision).toBe(1);
    expect(bundle.hash).toBe(notice.hash);
    expect(bundle.hash).toBe(bundleHash(bundle.files));
    // Small bundles travel inline with the notice.
    expect(notice.files).toEqual(bundle.files);
    expect(bundle.files.map((f) => [f.path, f.content, f.mode])).toEqual([
      ['/etc/app.conf', 'web\n', 0o600],
      ['/etc/zone', 'a', 0o644],
    ]);
    expect((await h.bundle('web-2')).files.map((f) => f.path)).toEqual(['/etc/app.conf']);
    expect((await h.bundle('db-1')).files[0].content).toBe('db-1 only');
  });

  it('refuses a publish that fails validation, naming the item and reason, and changes nothing', async () => {
    await h.call(v.draftSet, { scope: g, file: { path: '/etc/app.json', content: '{"port": ' }, author });
    const err = (await h.call(v.publish, { author, message: 'broken' }).catch((e: unknown) => e)) as FleetError;
    expect(err).toBeInstanceOf(FleetError);
    expect(err.code).toBe('validation_failed');
    expect(err.message).toMatch(/\/etc\/app\.json \(global\): JSON syntax error/);
    expect((await h.call<{ revisions: RevisionView[] }>(v.revisions, {})).revisions.map((r) => r.revision)).toEqual([1]);
    expect((await h.call<{ drafts: unknown[] }>(v.draftList)).drafts).toHaveLength(1);
    await h.call(v.draftDiscard, {});
  });

  it('rejects paths outside the allowed roots when staged, and enforces registered JSON Schemas at publish', async () => {
    await expect(h.call(v.draftSet, { scope: g, file: { path: '/root/.ssh/authorized_keys', content: 'x' }, author })).rejects.toMatchObject({
      code: 'validation_failed',
      message: expect.stringMatching(/outside the allowed roots/),
    });
    await expect(h.call(v.schemaPut, { pattern: '/etc/svc/*.yaml', schema: { $ref: '#/x' } })).rejects.toMatchObject({ code: 'validation_failed' });
    await h.call(v.schemaPut, { pattern: '/etc/svc/*.yaml', schema: { type: 'object', required: ['port'], properties: { port: { type: 'integer' } } } });
    await h.call(v.draftSet, { scope: g, file: { path: '/etc/svc/api.yaml', content: 'port: eighty\n' }, author });
    await expect(h.call(v.publish, { author, message: 'schema' })).rejects.toMatchObject({
      code: 'validation_failed',
      message: expect.stringMatching(/\/etc\/svc\/api\.yaml .*schema \/etc\/svc\/\*\.yaml: \/port: expected integer/),
    });
    await h.call(v.draftDiscard, {});
    await h.call(v.schemaDelete, { pattern: '/etc/svc/*.yaml' });
  });

  it('fails a stale compare-and-set with revision_conflict', async () => {
    await h.call(v.draftSet, { scope: g, file: { path: '/etc/motd', content: 'hi' }, author });
    await expect(h.call(v.publish, { author, message: 'stale', expectedRevision: 0 })).rejects.toMatchObject({ code: 'revision_conflict' });
    const ok = await h.call<{ revision: RevisionView }>(v.publish, { author, message: 'motd', expectedRevision: 1 });
    expect(ok.revision.revision).toBe(2);
  });

  it('converges a node whose labels change without a re-publish', async () => {
    await h.idle();
    const web2 = h.notices('web-2');
    const before = await h.bundle('web-2');
    expect(before.revision).toBe(2);
    expect(before.files.map((f) => f.path)).not.toContain('/etc/zone');
    await h.inventoryCall('update', { id: 'web-2', setLabels: { zone: 'a' } });
    const notice = await eventually(() => web2.find((n) => n.hash !== before.hash));
    expect(notice.revision).toBe(2);
    const after = await h.bundle('web-2');
    expect(after.hash).toBe(notice.hash);
    expect(after.files.map((f) => f.path)).toContain('/etc/zone');
  });

  it('stores acknowledgements and drift from durable agent reports and shows them per node and fleet-wide', async () => {
    const b: Bundle = await h.bundle('web-1');
    const at = new Date().toISOString();
    await h.report('web-1', { v: 1, kind: 'apply', revision: b.revision, hash: b.hash, ok: true, files: b.files.map((f) => ({ path: f.path, result: 'written' })), at });
    await h.report('db-1', { v: 1, kind: 'apply', revision: 2, hash: 'f'.repeat(64), ok: false, files: [{ path: '/etc/app.conf', result: 'check_failed', message: 'exit 1' }], at });
    h.nc.publish(h.client.subjects.agentReport('db-1', 'config'), new TextEncoder().encode('garbage'));
    const status = await eventually(async () => {
      const s = await h.call<NodeConfigStatus>(v.nodeStatus, { nodeId: 'web-1' });
      return s.inSync ? s : undefined;
    });
    expect(status).toMatchObject({ appliedRevision: b.revision, appliedHash: b.hash, lastResult: { ok: true } });
    const db = await eventually(async () => {
      const s = await h.call<NodeConfigStatus>(v.nodeStatus, { nodeId: 'db-1' });
      return s.lastResult ? s : undefined;
    });
    expect(db).toMatchObject({ appliedRevision: null, inSync: false, lastResult: { ok: false, files: [{ result: 'check_failed' }] } });

    await h.report('web-1', {
      v: 1,
      kind: 'drift',
      revision: b.revision,
      hash: b.hash,
      ok: true,
      drift: [
        // As an agent that compares content only sends it, and as one that also compares modes.
        { path: '/etc/app.conf', expected: 'a'.repeat(64), found: 'b'.repeat(64) },
        { path: '/etc/motd', expected: 'c'.repeat(64), found: 'c'.repeat(64), kinds: ['mode'], expectedMode: '0644', foundMode: '0777' },
      ],
      at: new Date(Date.now() + 1).toISOString(),
    });
    const drifted = await eventually(async () => (await h.call<{ nodes: NodeConfigStatus[] }>(v.drift, {})).nodes.find((n) => n.nodeId === 'web-1'));
    expect(drifted.drift).toEqual([
      { path: '/etc/app.conf', expected: 'a'.repeat(64), found: 'b'.repeat(64), kinds: ['content'] },
      { path: '/etc/motd', expected: 'c'.repeat(64), found: 'c'.repeat(64), kinds: ['mode'], expectedMode: '0644', foundMode: '0777' },
    ]);

    const fleet = await h.call<FleetStatus>(v.status, {});
    expect(fleet).toMatchObject({ latestRevision: 2, stableRevision: 2, nodes: 3, inSync: 1, drifted: 1, failed: 1, canary: null });
    expect(fleet.byAppliedRevision).toEqual({ '2': 1, none: 2 });
    expect(fleet.byDesiredRevision).toEqual({ '2': 3 });

    // Drift stored before entries carried kinds reads as content or missing drift.
    await h.sql(`UPDATE config.node_reports SET drift = $1::jsonb WHERE node_id = 'web-1'`, [JSON.stringify([{ path: '/etc/gone', expected: 'a'.repeat(64), found: 'missing' }])]);
    expect((await h.call<NodeConfigStatus>(v.nodeStatus, { nodeId: 'web-1' })).drift).toEqual([{ path: '/etc/gone', expected: 'a'.repeat(64), found: 'missing', kinds: ['missing'] }]);
  });

  it('stores acks while a publish still holds the desired rows, and drops reports of unknown nodes without losing the batch', async () => {
    const b: Bundle = await h.bundle('web-2');
    // A publish rewriting every desired row, caught mid-transaction: its row locks are held.
    const publish = new pg.Client({ connectionString: h.dbUrl });
    await publish.connect();
    // node.applied events name the nodes whose acks were stored, and only those.
    const announced: string[] = [];
    const events = h.nc.subscribe(h.client.subjects.event('config', 'node.applied'), {
      callback: (_e, m) => void announced.push(...(m.json() as { data: { nodes: Array<{ nodeId: string }> } }).data.nodes.map((n) => n.nodeId)),
    });
    await h.nc.flush();
    try {
      await publish.query('BEGIN');
      await publish.query('UPDATE config.nodes SET desired_at = now()');
      const at = new Date(Date.now() + 5).toISOString();
      await h.report('ghost-1', { v: 1, kind: 'apply', revision: b.revision, hash: b.hash, ok: true, files: [], at });
      await h.report('web-2', { v: 1, kind: 'apply', revision: b.revision, hash: b.hash, ok: true, files: [], at });
      const stored = await eventually(async () => {
        const s = await h.call<NodeConfigStatus>(v.nodeStatus, { nodeId: 'web-2' });
        return s.lastResult?.at === at ? s : undefined;
      });
      expect(stored).toMatchObject({ appliedRevision: b.revision, appliedHash: b.hash });
      expect(await h.sql(`SELECT 1 FROM config.node_reports WHERE node_id = 'ghost-1'`)).toEqual([]);
      await eventually(() => announced.includes('web-2'));
      expect(announced).not.toContain('ghost-1');
    } finally {
      events.unsubscribe();
      await publish.query('ROLLBACK').catch(() => undefined);
      await publish.end();
    }
  });

  it('keeps drift reported after an ack even when that older ack is stored later', async () => {
    const b: Bundle = await h.bundle('db-1');
    const t = Date.now() + 60_000;
    await h.report('db-1', {
      v: 1,
      kind: 'drift',
      revision: b.revision,
      hash: b.hash,
      ok: true,
      drift: [{ path: '/etc/app.conf', expected: 'a'.repeat(64), found: 'b'.repeat(64) }],
      at: new Date(t + 2).toISOString(),
    });
    await eventually(async () => (await h.call<NodeConfigStatus>(v.nodeStatus, { nodeId: 'db-1' })).drift.length === 1);
    await h.report('db-1', { v: 1, kind: 'apply', revision: b.revision, hash: b.hash, ok: true, files: [], at: new Date(t + 1).toISOString() });
    const s = await eventually(async () => {
      const x = await h.call<NodeConfigStatus>(v.nodeStatus, { nodeId: 'db-1' });
      return x.inSync ? x : undefined;
    });
    expect(s.drift).toHaveLength(1);
  });

  it('forgets at resync nodes the inventory no longer has, and keeps the rest', async () => {
    await h.sql(`INSERT INTO config.nodes (node_id, "group", facts_at) VALUES ('long-gone', 'default', now() - interval '1 hour')`);
    const known = await h.config.app.get(InventorySync).resync();
    expect(known).toBe(3);
    expect(await h.sql(`SELECT node_id FROM config.nodes ORDER BY node_id`)).toEqual([{ node_id: 'db-1' }, { node_id: 'web-1' }, { node_id: 'web-2' }]);
  });

  it('shows history and diffs, and rolls back by publishing an earlier revision as a new one', async () => {
    const diff = await h.call<{ changes: Array<{ path: string; change: string }> }>(v.diff, { from: 1, to: 2 });
    expect(diff.changes).toEqual([expect.objectContaining({ path: '/etc/motd', change: 'added' })]);
    const web1 = h.notices('web-1');
    const rb = await h.call<{ revision: RevisionView }>(v.rollback, { to: 1, author: 'bob', expectedRevision: 2 });
    expect(rb.revision).toMatchObject({ revision: 3, author: 'bob', rolledBackFrom: 1, message: 'rollback to revision 1' });
    await eventually(() => web1.find((n) => n.revision === 3));
    expect((await h.bundle('web-1')).files.map((f) => f.path)).not.toContain('/etc/motd');
    expect((await h.call<{ changes: unknown[] }>(v.diff, { from: 1, to: 3 })).changes).toEqual([]);
    const history = await h.call<{ revisions: RevisionView[] }>(v.revisions, {});
    expect(history.revisions.map((r) => r.revision)).toEqual([3, 2, 1]);
  });

  it('applies a canary revision to the selected nodes only, then aborts back or promotes to all', async () => {
    const web1 = h.notices('web-1');
    const db1 = h.notices('db-1');
    await h.call(v.draftSet, { scope: g, file: { path: '/etc/canary', content: 'c' }, author });
    const pub = await h.call<{ revision: RevisionView }>(v.publish, { author, message: 'canary', canary: { selector: 'role=web' } });
    expect(pub.revision.revision).toBe(4);
    await eventually(() => web1.find((n) => n.revision === 4));
    expect((await h.bundle('db-1')).revision).toBe(3);
    const fleet = await h.call<FleetStatus>(v.status, {});
    expect(fleet.canary).toMatchObject({ revision: 4, previousRevision: 3, selector: 'role=web', nodes: 2 });
    await expect(h.call(v.draftSet, { scope: g, file: { path: '/etc/x', content: 'x' }, author }).then(() => h.call(v.publish, { author, message: 'during canary' }))).rejects.toMatchObject({ code: 'conflict' });
    await h.call(v.draftDiscard, {});

    await h.call(v.canaryAbort, { author });
    await eventually(() => web1.filter((n) => n.revision === 3).length > 0 && web1.at(-1)?.revision === 3);
    expect((await h.bundle('web-1')).files.map((f) => f.path)).not.toContain('/etc/canary');

    const last = (await h.call<FleetStatus>(v.status, {})).latestRevision;
    await h.call(v.draftSet, { scope: g, file: { path: '/etc/canary', content: 'c2' }, author });
    await h.call(v.publish, { author, message: 'canary 2', canary: { percent: 100 } });
    await eventually(() => db1.find((n) => n.revision === last + 1));
    await h.call(v.canaryPromote, { author });
    const after = await eventually(async () => {
      const s = await h.call<FleetStatus>(v.status, {});
      return s.canary === null && s.byDesiredRevision[String(last + 1)] === 3 ? s : undefined;
    });
    expect(after.stableRevision).toBe(last + 1);
    await expect(h.call(v.canaryPromote, { author })).rejects.toMatchObject({ code: 'conflict' });
  });

  it('emits config events on the event stream', async () => {
    const jsm = await jetstreamManager(h.nc);
    const info = await jsm.streams.info(h.client.subjects.eventsStream);
    expect(info.state.messages).toBeGreaterThan(0);
    const c = await jsm.consumers.add(h.client.subjects.eventsStream, {
      filter_subject: `${h.root}.events.config.>`,
      deliver_policy: DeliverPolicy.All,
      ack_policy: AckPolicy.None,
    });
    const consumer = await h.client.js.consumers.get(h.client.subjects.eventsStream, c.name);
    const types = new Set<string>();
    const batch = await consumer.fetch({ max_messages: 200, expires: 1000 });
    for await (const m of batch) types.add((m.json() as { type: string }).type);
    for (const t of ['revision.published', 'revision.rolled_back', 'canary.started', 'canary.aborted', 'canary.promoted', 'node.applied', 'node.apply_failed', 'node.drift']) {
      expect(types).toContain(`config.${t}`);
    }
  });

  it('answers bad requests with typed errors and keeps serving', async () => {
    await expect(h.call(v.publish, { author: '', message: 'x' })).rejects.toMatchObject({ code: 'validation_failed' });
    await expect(h.call(v.diff, { from: 1, to: 99 })).rejects.toMatchObject({ code: 'not_found' });
    await expect(h.bundle('nobody-here')).rejects.toMatchObject({ code: 'not_found' });
    const raw = await h.nc.request(h.client.subjects.agent('web-1', 'config.bundle'), new TextEncoder().encode('{nope'));
    expect(raw.json()).toMatchObject({ ok: false, error: { code: 'bad_request' } });
    expect((await h.bundle('web-1')).nodeId).toBe('web-1');
  });
});
