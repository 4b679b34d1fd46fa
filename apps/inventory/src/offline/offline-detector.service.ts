import { Inject, Injectable } from '@nestjs/common';
import { ElectedLoop } from '#lib/persistence';
import { JsonLogger, OncePerCause, counter, gauge } from '#lib/telemetry';
import { HeartbeatService } from '../heartbeats/heartbeat.service.js';
import { EventOutbox } from '../outbox/event-outbox.service.js';
import { INVENTORY_SETTINGS, type InventorySettings } from '../settings.js';
import { type OfflinePolicy, detectionPeriodMs, mayJudge, offlineThresholdMs } from './offline-policy.js';

const markedOffline = counter('fleet_inventory_nodes_marked_offline_total', 'Nodes marked offline by the detector');
const leading = gauge('fleet_inventory_offline_detector_leader', '1 while this replica runs offline detection');

/** `SKIP LOCKED`: never waits on a row a flush holds, so the detector cannot deadlock with flushes. */
const MARK_OFFLINE = `
WITH stale AS (
  SELECT "id" FROM "inventory"."nodes"
  WHERE "status" = 'online' AND "last_seen_at" < now() - $1 * interval '1 millisecond'
  ORDER BY "id"
  FOR UPDATE SKIP LOCKED
)
UPDATE "inventory"."nodes" n SET "status" = 'offline', "updated_at" = now()
FROM stale WHERE n."id" = stale."id"
RETURNING n."id", n."last_seen_at", now() AS at`;

/**
 * Marks silent nodes offline. Runs in exactly one replica at a time (PostgreSQL advisory lock
 * `inventory:offline`); when that replica dies its session ends and another takes over within
 * `LEADER_RETRY_MS`. `SKIP LOCKED` leaves rows a heartbeat flush is writing right now alone: they
 * are alive by definition.
 */
@Injectable()
export class OfflineDetectorService {
  private readonly logger = new JsonLogger('inventory', 'offline-detector');
  private readonly problems = new OncePerCause(this.logger);
  private readonly policy: OfflinePolicy;
  private readonly loop: ElectedLoop;
  /** Completed detection passes while leader (tests wait on it). */
  passes = 0;

  constructor(
    @Inject(EventOutbox) private readonly outbox: EventOutbox,
    @Inject(HeartbeatService) private readonly heartbeats: HeartbeatService,
    @Inject(INVENTORY_SETTINGS) settings: InventorySettings,
  ) {
    this.policy = {
      intervalSeconds: settings.heartbeatIntervalSeconds,
      missed: settings.offlineAfterMissed,
      flushMs: settings.flushMs,
    };
    this.loop = new ElectedLoop({
      url: settings.databaseUrl,
      name: 'inventory:offline',
      retryMs: settings.leaderRetryMs,
      periodMs: detectionPeriodMs(this.policy),
      pass: () => this.detect(),
      onError: (err) => this.problems.warn(`detect:${err.message}`, 'offline detection failed', { error: err.message }),
      onLeadershipChange: (isLeading) => {
        leading.set(isLeading ? 1 : 0);
        if (isLeading) this.logger.info('running offline detection', { thresholdMs: offlineThresholdMs(this.policy) });
      },
    });
  }

  get isLeader(): boolean {
    return this.loop.isLeader;
  }

  start(): void {
    this.loop.start();
  }

  /** Gives up leadership (a follower takes over) after the pass in progress. */
  async stop(): Promise<void> {
    await this.loop.stop();
  }

  /** One detection pass; returns the ids marked offline. Public for tests. */
  async detect(): Promise<string[]> {
    if (!mayJudge(this.heartbeats.flowingForMs(), this.policy)) return [];
    const rows = await this.outbox.transaction(async (tx, events) => {
      const marked = await tx.query<{ id: string; last_seen_at: Date; at: Date }>(MARK_OFFLINE, [offlineThresholdMs(this.policy)]);
      for (const r of marked) events.offline(r.id, r.last_seen_at, r.at);
      return marked;
    });
    markedOffline.inc(rows.length);
    this.passes++;
    return rows.map((r) => r.id);
  }
}
