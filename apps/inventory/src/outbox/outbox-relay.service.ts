import { Inject, Injectable } from '@nestjs/common';
import { headers as natsHeaders, type MsgHdrs, type Subscription } from '@nats-io/transport-node';
import { INVENTORY } from '#contracts/inventory';
import { MessageBus } from '#lib/messaging';
import { ElectedLoop } from '#lib/persistence';
import { type Carrier, JsonLogger, OncePerCause, counter, gauge, histogram } from '#lib/telemetry';
import { Sql } from '../database/sql.js';
import { INVENTORY_SETTINGS, type InventorySettings } from '../settings.js';
import { recordPermanentFailure } from './outbox-dead-sql.js';
import { type OutboxRow, deleteFromOutbox, readOutbox } from './outbox-sql.js';
import { type PublishFailure, classifyPublishFailure } from './publish-failure.js';

const published = counter('fleet_inventory_events_total', 'Inventory events relayed from the outbox, by event and result', [
  'event',
  'result',
]);
const lag = histogram(
  'fleet_inventory_outbox_lag_seconds',
  'Time from the transaction that wrote an event to its acknowledgement by JetStream',
  [],
  [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
);
const dead = counter('fleet_inventory_outbox_dead_total', 'Outbox events JetStream refused for good, moved to inventory.outbox_dead', ['event']);
const leading = gauge('fleet_inventory_outbox_relay_leader', '1 while this replica relays the outbox');

const encoder = new TextEncoder();
/** Backoff cap while publishing keeps failing (the rows wait in the table meanwhile). */
const MAX_BACKOFF_MS = 5000;
/**
 * Permanent failures of one row before it is dead-lettered: more than one, so that an error
 * misread as permanent once (a server mid-restart answering oddly) costs a retry, not an event.
 */
export const DEAD_AFTER_ATTEMPTS = 3;

/**
 * Publishes the outbox to the events stream, oldest first, and deletes what JetStream
 * acknowledged.
 *
 * One replica relays at a time (`ElectedLoop`, advisory lock `inventory:outbox`) because order
 * matters: consumers see `node.offline` then `node.online`, never the reverse. Several relays
 * claiming batches with `SKIP LOCKED` would publish disjoint batches concurrently, and a later
 * batch could overtake an earlier one; one relay's throughput (a batch is pipelined on one
 * connection) is far above the event rate.
 *
 * Each message id is the row's `event_id`, so a relay that dies after publishing but before
 * deleting (or two relays overlapping during a leadership change) stores nothing twice within
 * the stream's duplicate window. JetStream processes one connection's publishes in order, so the
 * acknowledged part of a batch is a prefix; only that prefix is deleted, and the rest is retried
 * from the first failure on.
 *
 * A row JetStream refuses for good (`classifyPublishFailure`: too large, invalid subject) would
 * block every later event, so after `DEAD_AFTER_ATTEMPTS` such failures it is moved to
 * `inventory.outbox_dead` and the relay goes on with the next row. Transient failures (NATS or
 * the stream away) never dead-letter anything: they back off and retry the same row.
 *
 * Latency: a commit wakes the relay at once (`wake`); a replica that is not the leader wakes it
 * with a core NATS message on `<root>.svc.inventory.outbox-wake`. `OUTBOX_POLL_MS` is the safety
 * net (a lost wake-up, a failed pass), with backoff while publishing fails.
 */
@Injectable()
export class OutboxRelay {
  private readonly logger = new JsonLogger('inventory', 'outbox-relay');
  private readonly problems = new OncePerCause(this.logger);
  private readonly loop: ElectedLoop;
  private readonly wakeSubject: string;
  private subscription?: Subscription;
  private pokeQueued = false;
  private failures = 0;
  /** Events JetStream acknowledged to this replica, duplicates included (tests). */
  published = 0;

  constructor(
    @Inject(MessageBus) private readonly bus: MessageBus,
    @Inject(Sql) private readonly sql: Sql,
    @Inject(INVENTORY_SETTINGS) private readonly settings: InventorySettings,
  ) {
    this.wakeSubject = bus.subjects.svc(INVENTORY, 'outbox-wake');
    this.loop = new ElectedLoop({
      url: settings.databaseUrl,
      name: 'inventory:outbox',
      retryMs: settings.leaderRetryMs,
      periodMs: () => this.pollDelay(),
      pass: () => this.relay(),
      onError: (err) => {
        this.failures++;
        this.problems.warn(`relay:${err.message}`, 'outbox relay failed; events wait in the outbox', { error: err.message });
      },
      onLeadershipChange: (isLeading) => {
        leading.set(isLeading ? 1 : 0);
        if (isLeading) this.logger.info('relaying the event outbox');
      },
    });
  }

  get isLeader(): boolean {
    return this.loop.isLeader;
  }

  start(): void {
    // Every replica listens; only the leader acts on it.
    this.subscription = this.bus.nc.subscribe(this.wakeSubject, { callback: () => this.wakeLocal() });
    this.loop.start();
  }

  /**
   * Gives up relaying. A leader first finishes its pass and relays what is left (the events of
   * the shutdown's last writes), so a single replica does not leave them for its next start.
   */
  async stop(): Promise<void> {
    this.subscription?.unsubscribe();
    this.subscription = undefined;
    const wasLeader = this.loop.isLeader;
    await this.loop.stop();
    if (wasLeader) await this.relay().catch((err: Error) => this.logger.warn('final outbox relay failed; events wait for the next leader', { error: err.message }));
  }

  /** Called after a transaction that wrote events commits. */
  wake(): void {
    if (this.loop.isLeader) this.wakeLocal();
    else this.poke();
  }

  /** Relays until the outbox is empty; returns how many events were acknowledged. Public for tests. */
  async relay(): Promise<number> {
    let total = 0;
    for (;;) {
      const rows = await readOutbox(this.sql, this.settings.outboxBatchSize);
      if (rows.length === 0) break;
      const { acked, error } = await this.publish(rows);
      this.published += acked;
      await deleteFromOutbox(this.sql, rows.slice(0, acked).map((r) => r.seq));
      total += acked;
      if (error) {
        const failure = classifyPublishFailure(error);
        // Dead-lettered (or gone): the next read starts at the row behind it.
        if (failure.kind === 'permanent' && (await this.failedForGood(rows[acked], failure))) continue;
        throw error;
      }
      if (rows.length < this.settings.outboxBatchSize) break;
    }
    this.failures = 0;
    return total;
  }

  /**
   * Counts a permanent failure of `row`; true when the row has left the outbox (moved to the dead
   * letters now, or already gone), false while it is still to be retried.
   */
  private async failedForGood(row: OutboxRow, failure: PublishFailure): Promise<boolean> {
    const { moved, attempts } = await recordPermanentFailure(this.sql, row.seq, failure.reason, DEAD_AFTER_ATTEMPTS);
    if (moved) {
      dead.inc({ event: row.event });
      this.logger.error('event refused by JetStream for good, moved to inventory.outbox_dead', {
        event: row.event,
        eventId: row.event_id,
        seq: row.seq,
        attempts,
        error: failure.reason,
      });
    }
    return moved || attempts === 0;
  }

  private wakeLocal(): void {
    // While publishing fails, the backoff decides when to try again, not the commit rate.
    if (this.failures === 0) this.loop.wake();
  }

  /** At most one wake message per tick, however many transactions commit in it. */
  private poke(): void {
    if (this.pokeQueued) return;
    this.pokeQueued = true;
    setImmediate(() => {
      this.pokeQueued = false;
      if (this.bus.nc.isClosed()) return;
      try {
        this.bus.nc.publish(this.wakeSubject);
      } catch {
        // The leader's poll picks the events up.
      }
    });
  }

  /** Publishes a batch pipelined; `acked` is the length of the acknowledged prefix. */
  private async publish(rows: OutboxRow[]): Promise<{ acked: number; error?: Error }> {
    const results = await Promise.allSettled(
      rows.map((row) =>
        this.bus.js.publish(this.bus.subjects.event(INVENTORY, row.event), encoder.encode(row.envelope), {
          msgID: row.event_id,
          headers: headersOf(row.trace),
        }),
      ),
    );
    const now = Date.now();
    let acked = 0;
    for (; acked < results.length; acked++) {
      const result = results[acked];
      if (result.status === 'rejected') {
        published.inc({ event: rows[acked].event, result: 'failed' });
        return { acked, error: result.reason as Error };
      }
      published.inc({ event: rows[acked].event, result: result.value.duplicate ? 'duplicate' : 'ok' });
      lag.observe((now - rows[acked].created_at.getTime()) / 1000);
    }
    return { acked };
  }

  private pollDelay(): number {
    const poll = this.settings.outboxPollMs;
    if (this.failures === 0) return poll;
    return Math.min(poll * 2 ** this.failures, Math.max(MAX_BACKOFF_MS, poll));
  }
}

function headersOf(trace: Carrier | null): MsgHdrs | undefined {
  if (!trace) return undefined;
  const h = natsHeaders();
  for (const [k, v] of Object.entries(trace)) h.set(k, v);
  return h;
}
