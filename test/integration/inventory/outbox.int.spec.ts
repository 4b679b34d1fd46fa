import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { jetstreamManager } from '@nats-io/jetstream';
import pg from 'pg';
import { helloSchema } from '#contracts/inventory';
import { metricsRegistry } from '#lib/telemetry';
import { Sql } from '../../../apps/inventory/src/database/sql.js';
import { RegistrationService } from '../../../apps/inventory/src/nodes/registration.service.js';
import { DEAD_AFTER_ATTEMPTS } from '../../../apps/inventory/src/outbox/outbox-relay.service.js';
import { deleteFromOutbox } from '../../../apps/inventory/src/outbox/outbox-sql.js';
import { eventually } from '../../support/infra.js';
import { InventoryHarness, type StoredEvent, heartbeat, hello } from './support.js';

/**
 * The transactional outbox on real PostgreSQL and NATS: events exist exactly when their change
 * does, reach the stream in order, survive a publishing outage, and are stored once however often
 * the relay publishes them.
 */
describe('inventory: event outbox', () => {
  // A long heartbeat interval: no node of this file is marked offline behind its back.
  const h = new InventoryHarness({ OUTBOX_POLL_MS: '100', LEADER_RETRY_MS: '200', HEARTBEAT_FLUSH_MS: '50', HEARTBEAT_INTERVAL_SECONDS: '60' });

  beforeAll(async () => {
    await h.setUp();
    await eventually(() => h.relay().isLeader, 5000);
  });
  afterEach(async () => {
    await h.sql(`DROP TRIGGER IF EXISTS refuse ON inventory.outbox`);
  });
  afterAll(async () => {
    await h.tearDown();
  });

  const outboxRows = () =>
    h.sql<{ seq: string; event_id: string; event: string }>(`SELECT seq, event_id, event FROM inventory.outbox ORDER BY seq`);
  const ofNode = (events: StoredEvent[], id: string) =>
    events.filter((e) => (e.data.nodeId ?? (e.data.node as { id: string } | undefined)?.id) === id).map((e) => e.type);

  /** Publish attempts JetStream refused, counted by the relays of this process. */
  async function failedPublishes(): Promise<number> {
    const metric = await metricsRegistry.getSingleMetric('fleet_inventory_events_total')!.get();
    return metric.values.filter((v) => v.labels.result === 'failed').reduce((sum, v) => sum + v.value, 0);
  }

  /** Events moved to the dead letters by the relays of this process. */
  async function deadLettered(): Promise<number> {
    const metric = await metricsRegistry.getSingleMetric('fleet_inventory_outbox_dead_total')!.get();
    return metric.values.reduce((sum, v) => sum + v.value, 0);
  }

  const deadRows = () =>
    h.sql<{ seq: string; event_id: string; event: string; attempts: number; error: string; size: number }>(
      `SELECT seq, event_id, event, attempts, error, octet_length(envelope::text) AS size FROM inventory.outbox_dead ORDER BY seq`,
    );

  /** Makes every INSERT or DELETE on the outbox fail until the test ends. */
  async function refuse(operation: 'INSERT' | 'DELETE'): Promise<void> {
    await h.sql(`CREATE OR REPLACE FUNCTION inventory.refuse() RETURNS trigger LANGUAGE plpgsql AS
      $$ BEGIN RAISE EXCEPTION 'outbox refuses %', TG_OP; END $$`);
    await h.sql(`CREATE TRIGGER refuse BEFORE ${operation} ON inventory.outbox FOR EACH STATEMENT EXECUTE FUNCTION inventory.refuse()`);
  }

  it('makes no change whose events cannot be stored: the hello fails and the node stays unknown', async () => {
    await refuse('INSERT');
    await expect(h.sayHello(hello('atomic'))).rejects.toMatchObject({ code: 'internal' });
    await expect(h.call('get', { id: 'atomic' })).rejects.toMatchObject({ code: 'not_found' });
    await h.sql(`DROP TRIGGER refuse ON inventory.outbox`);
    await expect(h.sayHello(hello('atomic'))).resolves.toMatchObject({ registered: true });
  });

  it('keeps a heartbeat flush and its node.online together: rolled back and retried as one', async () => {
    await h.sayHello(hello('returner'));
    await h.sql(`UPDATE inventory.nodes SET status = 'offline' WHERE id = 'returner'`);
    await refuse('INSERT');
    const failed = h.heartbeats().stats().failedFlushes;
    h.beat('returner', heartbeat());
    await eventually(() => h.heartbeats().stats().failedFlushes > failed);
    const [{ status }] = await h.sql<{ status: string }>(`SELECT status FROM inventory.nodes WHERE id = 'returner'`);
    expect(status).toBe('offline');
    await h.sql(`DROP TRIGGER refuse ON inventory.outbox`);
    await eventually(async () => ofNode(await h.events(), 'returner').includes('inventory.node.online'));
    expect(ofNode(await h.events(), 'returner')).toEqual(['inventory.node.registered', 'inventory.node.online']);
  });

  it('publishes what piled up while the relay was stopped, in outbox order, then empties the outbox', async () => {
    await h.relay().stop();
    const ids = Array.from({ length: 12 }, (_, i) => `ordered-${String(i).padStart(2, '0')}`);
    for (const id of ids) await h.sayHello(hello(id));
    for (const id of ids) await h.call('update', { id, setLabels: { rack: 'r1' } });
    for (const id of ids.slice(0, 6)) await h.call('decommission', { id });
    for (const id of ids.slice(0, 3)) await h.sayHello(hello(id));
    const pending = await outboxRows();
    expect(pending).toHaveLength(12 + 12 + 6 + 3);
    expect((await h.events()).filter((e) => e.id === pending[0].event_id)).toEqual([]);

    h.relay().start();
    const waiting = new Set(pending.map((r) => r.event_id));
    const stored = await eventually(async () => {
      const published = (await h.events()).filter((e) => waiting.has(e.id));
      return published.length === pending.length ? published : undefined;
    });
    expect(stored.map((e) => e.id)).toEqual(pending.map((r) => r.event_id));
    expect(stored.every((e) => e.msgId === e.id)).toBe(true);
    expect(ofNode(stored, 'ordered-00')).toEqual([
      'inventory.node.registered',
      'inventory.node.updated',
      'inventory.node.decommissioned',
      'inventory.node.registered',
    ]);
    expect(ofNode(stored, 'ordered-11')).toEqual(['inventory.node.registered', 'inventory.node.updated']);
    await eventually(async () => (await outboxRows()).length === 0);
  });

  it('delivers events written while publishing fails once JetStream takes them again', async () => {
    const jsm = await jetstreamManager(h.client.nc);
    await jsm.streams.delete(h.client.subjects.eventsStream);
    const failed = await failedPublishes();
    const ids = ['outage-1', 'outage-2', 'outage-3'];
    for (const id of ids) await h.sayHello(hello(id));
    // More failures than a permanently refused row gets before it is dead-lettered.
    await eventually(async () => (await failedPublishes()) > failed + DEAD_AFTER_ATTEMPTS, 15_000);
    expect((await outboxRows()).map((r) => r.event)).toEqual(['node.registered', 'node.registered', 'node.registered']);
    const [{ attempts }] = await h.sql<{ attempts: number }>(`SELECT max(attempts) AS attempts FROM inventory.outbox`);
    expect(attempts).toBe(0); // a missing stream is no fault of the event

    await h.client.ensureEventStream();
    const stored = await eventually(async () => {
      const events = (await h.events()).filter((e) => ids.includes((e.data.node as { id: string } | undefined)?.id ?? ''));
      return events.length === 3 ? events : undefined;
    }, 15_000);
    expect(stored.map((e) => (e.data.node as { id: string }).id)).toEqual(ids);
    await eventually(async () => (await outboxRows()).length === 0);
    expect(await deadRows()).toEqual([]);
  });

  it('moves an event JetStream refuses for good (over max_payload) to outbox_dead and relays the ones behind it in order', async () => {
    await h.relay().stop();
    const deadBefore = await deadLettered();
    await h.sayHello(hello('poison-before'));
    // Over the server's 1 MiB max_payload: the client refuses it before sending, every time.
    const envelope = {
      v: 1,
      id: crypto.randomUUID(),
      type: 'inventory.node.updated',
      time: new Date().toISOString(),
      source: 'inventory',
      data: { node: { id: 'poison' }, changed: ['labels'], padding: 'x'.repeat(1_100_000) },
    };
    await h.sql(`INSERT INTO inventory.outbox (event_id, event, envelope) VALUES ($1, 'node.updated', $2)`, [envelope.id, JSON.stringify(envelope)]);
    const behind = ['poison-after-1', 'poison-after-2', 'poison-after-3'];
    for (const id of behind) await h.sayHello(hello(id));
    const pending = await outboxRows();
    expect(pending.map((r) => r.event_id)).toContain(envelope.id);

    h.relay().start();
    await eventually(async () => (await outboxRows()).length === 0, 15_000);
    const [row, ...others] = await deadRows();
    expect(others).toEqual([]);
    expect(row).toMatchObject({ event_id: envelope.id, event: 'node.updated', attempts: DEAD_AFTER_ATTEMPTS });
    expect(row.size).toBe(JSON.stringify(envelope).length); // kept whole, for an operator to inspect or replay
    expect(row.error).toContain('max_payload');
    expect(await deadLettered()).toBe(deadBefore + 1);

    const stored = (await h.events()).filter((e) => pending.some((r) => r.event_id === e.id));
    expect(stored.map((e) => e.id)).toEqual(pending.filter((r) => r.event_id !== envelope.id).map((r) => r.event_id));
    expect(stored.map((e) => (e.data.node as { id: string }).id)).toEqual(['poison-before', ...behind]);
  });

  it('dead-letters an event the stream itself refuses (over its max_msg_size, a JetStream API error)', async () => {
    const jsm = await jetstreamManager(h.client.nc);
    const stream = h.client.subjects.eventsStream;
    const { config } = await jsm.streams.info(stream);
    await jsm.streams.update(stream, { ...config, max_msg_size: 16 * 1024 });
    try {
      const envelope = {
        v: 1,
        id: crypto.randomUUID(),
        type: 'inventory.node.online',
        time: new Date().toISOString(),
        source: 'inventory',
        data: { nodeId: 'too-big', at: new Date().toISOString(), padding: 'x'.repeat(20 * 1024) },
      };
      await h.relay().stop();
      try {
        await h.sql(`INSERT INTO inventory.outbox (event_id, event, envelope) VALUES ($1, 'node.online', $2)`, [envelope.id, JSON.stringify(envelope)]);
        await h.sayHello(hello('small-behind'));
      } finally {
        h.relay().start();
      }
      await eventually(async () => (await outboxRows()).length === 0, 15_000);
      const row = (await deadRows()).find((r) => r.event_id === envelope.id);
      expect(row).toMatchObject({ event: 'node.online', attempts: DEAD_AFTER_ATTEMPTS });
      expect(row!.error).toContain('JetStream 10054');
      expect(ofNode(await h.events(), 'small-behind')).toEqual(['inventory.node.registered']);
      expect(ofNode(await h.events(), 'too-big')).toEqual([]);
    } finally {
      await jsm.streams.update(stream, { ...config, max_msg_size: config.max_msg_size });
    }
  });

  it('stores each event once when a relay is restarted after publishing but before deleting', async () => {
    await refuse('DELETE');
    const before = h.relay().published;
    const ids = ['twice-1', 'twice-2', 'twice-3', 'twice-4'];
    for (const id of ids) await h.sayHello(hello(id));
    // Published (acknowledged, so counted) but still in the outbox: the delete keeps failing.
    await eventually(() => h.relay().published - before >= ids.length);
    expect(await outboxRows()).toHaveLength(ids.length);

    const old = h.instances.shift()!;
    await old.close();
    await h.sql(`DROP TRIGGER refuse ON inventory.outbox`);
    const restarted = await h.start();
    await eventually(async () => (await outboxRows()).length === 0, 10_000);

    expect(h.relay(restarted).published).toBeGreaterThanOrEqual(ids.length); // it published them again
    const stored = (await h.events()).filter((e) => ids.includes((e.data.node as { id: string } | undefined)?.id ?? ''));
    expect(stored.map((e) => (e.data.node as { id: string }).id)).toEqual(ids);
  });

  it('deletes exactly the rows it published, never a range of seqs', async () => {
    await h.relay().stop();
    for (const id of ['exact-1', 'exact-2', 'exact-3']) await h.sayHello(hello(id));
    const [first, second, third] = await outboxRows();
    await deleteFromOutbox(h.inventory.app.get(Sql), [first.seq, third.seq]);
    expect(await outboxRows()).toEqual([second]);
    h.relay().start();
    await eventually(async () => (await outboxRows()).length === 0);
  });

  it('relays a row that commits after a later one was already relayed (no high-water mark)', async () => {
    const late = new pg.Client({ connectionString: h.dbUrl });
    await late.connect();
    try {
      const envelope = { v: 1, id: crypto.randomUUID(), type: 'inventory.node.online', time: new Date().toISOString(), source: 'inventory', data: { nodeId: 'late', at: new Date().toISOString() } };
      await late.query('BEGIN');
      await late.query(`INSERT INTO inventory.outbox (event_id, event, envelope) VALUES ($1, 'node.online', $2)`, [envelope.id, JSON.stringify(envelope)]);
      await h.sayHello(hello('early')); // a higher seq, committed first
      await eventually(async () => ofNode(await h.events(), 'early').length === 1);
      await late.query('COMMIT');
      await eventually(async () => (await h.events()).some((e) => e.id === envelope.id));
    } finally {
      await late.end();
    }
  });

  it('wakes the relay at once, also from a replica that does not relay (no waiting for the poll)', async () => {
    const slow = { OUTBOX_POLL_MS: '60000' };
    for (const instance of h.instances.splice(0)) await instance.close();
    const a = await h.start(slow);
    await eventually(() => h.relay(a).isLeader, 5000);
    const b = await h.start(slow);
    await new Promise((r) => setTimeout(r, 300)); // b has tried the lock and follows
    expect(h.relay(b).isLeader).toBe(false);

    for (const [instance, id] of [[a, 'woken-by-leader'], [b, 'woken-by-follower']] as const) {
      const started = Date.now();
      await instance.app.get(RegistrationService).hello(helloSchema.parse(hello(id)));
      await eventually(async () => ofNode(await h.events(), id).length === 1, 5000, 10);
      expect(Date.now() - started).toBeLessThan(2000); // the poll would take 60 s
    }
  });
});
