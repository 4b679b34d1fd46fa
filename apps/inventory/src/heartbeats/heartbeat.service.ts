import { Inject, Injectable } from '@nestjs/common';
import type { Subscription } from '@nats-io/transport-node';
import { FleetError } from '#contracts/common';
import { type Heartbeat, fastParseHeartbeat, heartbeatSchema, helloAgainSchema } from '#contracts/inventory';
import { MessageBus } from '#lib/messaging';
import { JsonLogger, OncePerCause } from '#lib/telemetry';
import { nodeRowFromJson, toNodeView } from '../nodes/node-view.js';
import { EventOutbox } from '../outbox/event-outbox.service.js';
import { INVENTORY_SETTINGS, type InventorySettings } from '../settings.js';
import type { HeartbeatBatch } from './heartbeat-buffer.js';
import { heartbeatMetrics as m } from './heartbeat-metrics.js';
import { HeartbeatPipeline, type PipelineStats, type WriteResult } from './heartbeat-pipeline.js';
import { writeHeartbeats } from './heartbeat-writer.js';
import { HelloAgainLimiter } from './hello-again.js';

const NODE_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/; // nodeIdSchema's rule, without zod on the hot path
const HELLO_AGAIN = helloAgainSchema.parse({ v: 1, reason: 'node is not registered in the inventory' });

/** Heartbeats are tiny; anything bigger is not one. */
export const HEARTBEAT_MAX_BYTES = 2048;

/**
 * Consumes `<root>.agent.*.heartbeat` (queue group: replicas share the fleet), buffers the newest
 * heartbeat per node and writes each flush as one statement, in one transaction with the events
 * it causes (`node.online` for nodes that were offline, `node.updated` when the booted OS version
 * changed; one outbox insert, only when there are any). Nodes the database does not know get a
 * rate-limited `hello-again` notice.
 */
@Injectable()
export class HeartbeatService {
  private readonly logger = new JsonLogger('inventory', 'heartbeats');
  private readonly problems = new OncePerCause(this.logger);
  private readonly pipeline: HeartbeatPipeline;
  private readonly helloAgain: HelloAgainLimiter;
  private subscription?: Subscription;
  /** Since when heartbeats have been arriving uninterrupted (null while disconnected). */
  private flowingSince: number | null = null;
  private synced = { accepted: 0, coalesced: 0, dropped: 0 };

  constructor(
    @Inject(MessageBus) private readonly bus: MessageBus,
    @Inject(EventOutbox) private readonly outbox: EventOutbox,
    @Inject(INVENTORY_SETTINGS) settings: InventorySettings,
  ) {
    this.helloAgain = new HelloAgainLimiter(settings.helloAgainMinIntervalMs);
    this.pipeline = new HeartbeatPipeline({
      flushMs: settings.flushMs,
      flushAtNodes: settings.bufferNodes,
      maxNodes: settings.bufferMaxNodes,
      write: (batch) => this.write(batch),
      afterFlush: () => this.syncMetrics(),
      onFlushError: (err, size) => {
        m.failures.inc();
        this.problems.warn(`flush:${err.message}`, 'heartbeat flush failed; will retry', { error: err.message, rows: size });
      },
    });
  }

  start(): void {
    this.pipeline.start();
    this.subscription = this.bus.consume(this.bus.subjects.anyAgent('heartbeat'), {
      name: 'inventory.heartbeat',
      schema: heartbeatSchema,
      fastParse: fastParseHeartbeat,
      maxBytes: HEARTBEAT_MAX_BYTES,
      trace: false,
      handler: (hb, ctx) => this.receive(ctx.nodeId, hb),
    });
    this.flowingSince = Date.now();
    void this.watchConnection();
  }

  /** Ms during which heartbeats have flowed without interruption (0 while disconnected). */
  flowingForMs(now = Date.now()): number {
    return this.flowingSince === null ? 0 : now - this.flowingSince;
  }

  stats(): PipelineStats & { buffered: number } {
    return { ...this.pipeline.stats, buffered: this.pipeline.buffered };
  }

  /** Writes everything buffered now (tests, shutdown). */
  flush(): Promise<void> {
    return this.pipeline.flush();
  }

  /** Called when a node says hello, so a later hello-again is not held back by the rate limit. */
  nodeSaidHello(nodeId: string): void {
    this.helloAgain.forget(nodeId);
  }

  /** Stops taking heartbeats and writes what is buffered (its events land in the outbox). */
  async stop(): Promise<void> {
    this.subscription?.unsubscribe();
    this.subscription = undefined;
    await this.pipeline.stop();
  }

  private receive(nodeId: string | undefined, hb: Heartbeat): void {
    if (nodeId === undefined || !NODE_ID.test(nodeId)) {
      m.dropped.inc({ reason: 'bad_node_id' });
      throw new FleetError('validation_failed', `heartbeat on a subject with an invalid node id "${nodeId}"`);
    }
    // Per-message metrics are added up per flush instead (see syncMetrics): this is the hot path.
    this.pipeline.add(nodeId, hb);
  }

  private async write(batch: HeartbeatBatch): Promise<WriteResult> {
    const stop = m.flushSeconds.startTimer();
    const rows = await this.outbox.transaction(async (tx, events) => {
      const written = await writeHeartbeats(tx, batch);
      for (const row of written) {
        if (row.came_online) events.online(row.id, row.last_seen_at ?? new Date());
        if (row.node) events.updated(toNodeView(nodeRowFromJson(row.node)), ['os.version']);
      }
      return written;
    });
    stop();
    const known = new Set<string>();
    for (const row of rows) known.add(row.id);
    let heartbeats = 0;
    for (let i = 0; i < batch.size; i++) if (known.has(batch.nodeIds[i])) heartbeats += batch.counts[i];
    m.batchSize.observe(batch.size);
    m.rows.inc(rows.length);
    m.flushed.inc(heartbeats);
    this.askUnknownToHello(batch, known);
    return { rows: rows.length, heartbeats };
  }

  /** Brings the counters of the hot path into the metrics registry (cheap, once per flush). */
  private syncMetrics(): void {
    const s = this.pipeline.stats;
    m.received.inc(s.received - s.dropped - this.synced.accepted);
    m.coalesced.inc(s.coalesced - this.synced.coalesced);
    m.dropped.inc({ reason: 'buffer_full' }, s.dropped - this.synced.dropped);
    this.synced = { accepted: s.received - s.dropped, coalesced: s.coalesced, dropped: s.dropped };
    m.buffered.set(this.pipeline.buffered);
  }

  private askUnknownToHello(batch: HeartbeatBatch, known: Set<string>): void {
    const now = Date.now();
    for (let i = 0; i < batch.size; i++) {
      const nodeId = batch.nodeIds[i];
      if (known.has(nodeId)) continue;
      m.unknown.inc(batch.counts[i]);
      if (!this.helloAgain.allow(nodeId, now)) continue;
      m.helloAgain.inc();
      this.bus.publish(this.bus.subjects.node(nodeId, 'hello-again'), HELLO_AGAIN);
    }
  }

  private async watchConnection(): Promise<void> {
    try {
      for await (const status of this.bus.nc.status()) {
        if (status.type === 'disconnect') this.flowingSince = null;
        else if (status.type === 'reconnect') this.flowingSince = Date.now();
      }
    } catch {
      // The status iterator ends when the connection closes.
    }
  }
}
