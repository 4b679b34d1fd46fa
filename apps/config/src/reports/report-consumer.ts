import { Inject, Injectable } from '@nestjs/common';
import { CONFIG_EVENTS, CONFIG_REPORT_AREA, configReportSchema, withDriftKinds, type ConfigReport } from '#contracts/config';
import { MessageBus, consumeBatches, type BatchItem } from '#lib/messaging';
import { counter } from '#lib/telemetry';
import { Db } from '../database/data-source.js';
import { ConfigEvents } from '../events.js';
import { CONFIG_SETTINGS, type ConfigSettings } from '../settings.js';

const reports = counter('fleet_config_reports_total', 'Agent config reports stored, by kind and result', ['kind', 'result']);

/**
 * Durable consumption of agent reports (`<root>.agent.*.report.config`): apply acknowledgements
 * and drift, upserted into `config.node_reports` (its own table, so storing acks never waits on a
 * publish rewriting the desired rows). One batch = at most two statements, rows taken in node
 * order so that replicas storing overlapping batches cannot deadlock. A report older than what is
 * stored for the node (by its `at`) is ignored, so redelivery or reordering cannot move a node
 * backwards; reports of nodes the service does not know yet are dropped (the agent re-reports on
 * its next apply or drift check).
 */
@Injectable()
export class ReportConsumer {
  private consumer?: { stop(): Promise<void> };

  constructor(
    @Inject(MessageBus) private readonly bus: MessageBus,
    @Inject(Db) private readonly db: Db,
    @Inject(ConfigEvents) private readonly events: ConfigEvents,
    @Inject(CONFIG_SETTINGS) private readonly settings: ConfigSettings,
  ) {}

  async start(): Promise<void> {
    this.consumer = await consumeBatches(this.bus, {
      durable: 'config-reports',
      stream: this.bus.subjects.reportsStream,
      filterSubject: this.bus.subjects.anyAgentReport(CONFIG_REPORT_AREA),
      schema: configReportSchema,
      name: 'config.report',
      maxBatch: this.settings.reportBatch,
      flushMs: this.settings.reportFlushMs,
      // Order does not matter here (the newest report per node wins by its timestamp, and rows are
      // locked in node order), so several batches are written at once after a fleet-wide publish.
      concurrency: this.settings.reportConcurrency,
      ackWaitMs: 10_000,
      requireNodeId: true,
      handler: (items) => this.store(items),
    });
  }

  async stop(): Promise<void> {
    await this.consumer?.stop();
  }

  private async store(items: Array<BatchItem<ConfigReport>>): Promise<void> {
    const applies = latestPerNode(items.filter((i) => i.input.kind === 'apply'));
    // Entries from agents that compare content only get their kind (content or missing) here, so
    // stored drift and `node.drift` events always say what differs.
    const drifts = latestPerNode(items.filter((i) => i.input.kind === 'drift')).map((d) => ({ ...d, report: { ...d.report, drift: d.report.drift.map(withDriftKinds) } }));
    if (applies.length) {
      const updated = await this.db.query<{ node_id: string }>(
        `INSERT INTO "config"."node_reports" AS r
           ("node_id", "last_ok", "last_revision", "last_hash", "last_files", "last_at", "applied_revision", "applied_hash", "drift")
         SELECT u.i, u.ok, u.r, u.h, u.f::jsonb, u.at, CASE WHEN u.ok THEN u.r END, CASE WHEN u.ok THEN u.h END, '[]'::jsonb
         FROM unnest($1::text[], $2::bool[], $3::int[], $4::text[], $5::text[], $6::timestamptz[]) AS u(i, ok, r, h, f, at)
         WHERE EXISTS (SELECT 1 FROM "config"."nodes" n WHERE n."node_id" = u.i)
         ORDER BY u.i
         ON CONFLICT ("node_id") DO UPDATE SET
           "last_ok" = EXCLUDED."last_ok", "last_revision" = EXCLUDED."last_revision", "last_hash" = EXCLUDED."last_hash",
           "last_files" = EXCLUDED."last_files", "last_at" = EXCLUDED."last_at",
           "applied_revision" = CASE WHEN EXCLUDED."last_ok" THEN EXCLUDED."last_revision" ELSE r."applied_revision" END,
           "applied_hash" = CASE WHEN EXCLUDED."last_ok" THEN EXCLUDED."last_hash" ELSE r."applied_hash" END,
           -- A good apply clears drift, but not drift reported after it (batches run concurrently).
           "drift" = CASE WHEN EXCLUDED."last_ok" AND (r."drift_at" IS NULL OR r."drift_at" <= EXCLUDED."last_at") THEN '[]'::jsonb ELSE r."drift" END
         WHERE r."last_at" IS NULL OR r."last_at" <= EXCLUDED."last_at"
         RETURNING r."node_id"`,
        [
          applies.map((a) => a.nodeId),
          applies.map((a) => a.report.ok),
          applies.map((a) => a.report.revision),
          applies.map((a) => a.report.hash),
          applies.map((a) => JSON.stringify(a.report.files)),
          applies.map((a) => a.report.at),
        ],
      );
      reports.inc({ kind: 'apply', result: 'stored' }, updated.length);
      // Events only for what was stored: not for unknown nodes, nor reports older than the row.
      const stored = new Set(updated.map((u) => u.node_id));
      const ok = applies.filter((a) => a.report.ok && stored.has(a.nodeId));
      if (ok.length) void this.events.emit(CONFIG_EVENTS.applied, { nodes: ok.map((a) => ({ nodeId: a.nodeId, revision: a.report.revision, hash: a.report.hash })) });
      for (const a of applies.filter((x) => !x.report.ok && stored.has(x.nodeId))) {
        void this.events.emit(CONFIG_EVENTS.applyFailed, {
          nodeId: a.nodeId,
          revision: a.report.revision,
          hash: a.report.hash,
          files: a.report.files.filter((f) => !['written', 'unchanged', 'removed'].includes(f.result)),
        });
      }
    }
    if (drifts.length) {
      const updated = await this.db.query<{ node_id: string }>(
        `INSERT INTO "config"."node_reports" AS r ("node_id", "drift", "drift_at")
         SELECT u.i, u.d::jsonb, u.at FROM unnest($1::text[], $2::text[], $3::timestamptz[]) AS u(i, d, at)
         WHERE EXISTS (SELECT 1 FROM "config"."nodes" n WHERE n."node_id" = u.i)
         ORDER BY u.i
         ON CONFLICT ("node_id") DO UPDATE SET "drift" = EXCLUDED."drift", "drift_at" = EXCLUDED."drift_at"
         WHERE r."drift_at" IS NULL OR r."drift_at" <= EXCLUDED."drift_at"
         RETURNING r."node_id"`,
        [drifts.map((d) => d.nodeId), drifts.map((d) => JSON.stringify(d.report.drift)), drifts.map((d) => d.report.at)],
      );
      reports.inc({ kind: 'drift', result: 'stored' }, updated.length);
      const stored = new Set(updated.map((u) => u.node_id));
      for (const d of drifts.filter((x) => stored.has(x.nodeId))) {
        void this.events.emit(CONFIG_EVENTS.drift, { nodeId: d.nodeId, revision: d.report.revision, drift: d.report.drift, remediated: d.report.remediated });
      }
    }
  }
}

function latestPerNode(items: Array<BatchItem<ConfigReport>>): Array<{ nodeId: string; report: ConfigReport }> {
  const by = new Map<string, ConfigReport>();
  for (const i of items) {
    if (!i.nodeId) continue;
    const prev = by.get(i.nodeId);
    if (!prev || prev.at <= i.input.at) by.set(i.nodeId, i.input);
  }
  return [...by].map(([nodeId, report]) => ({ nodeId, report }));
}
