import { Inject, Injectable } from '@nestjs/common';
import { CONFIG_EVENTS, CONFIG_REPORT_AREA, configReportSchema, type ConfigReport } from '#contracts/config';
import { MessageBus } from '#lib/messaging';
import { counter } from '#lib/telemetry';
import { Db } from '../database/data-source.js';
import { ConfigEvents } from '../events.js';
import { CONFIG_SETTINGS, type ConfigSettings } from '../settings.js';
import { consumeBatches, type BatchItem } from './batched-consumer.js';

const reports = counter('fleet_config_reports_total', 'Agent config reports stored, by kind and result', ['kind', 'result']);

/**
 * Durable consumption of agent reports (`<root>.agent.*.report.config`): apply acknowledgements
 * and drift. One batch = at most two UPDATE statements. A report older than what is stored for
 * the node (by its `at`) is ignored, so redelivery or reordering cannot move a node backwards.
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
      handler: (items) => this.store(items),
    });
  }

  async stop(): Promise<void> {
    await this.consumer?.stop();
  }

  private async store(items: Array<BatchItem<ConfigReport>>): Promise<void> {
    const applies = latestPerNode(items.filter((i) => i.input.kind === 'apply'));
    const drifts = latestPerNode(items.filter((i) => i.input.kind === 'drift'));
    if (applies.length) {
      const updated = await this.db.query<{ node_id: string }>(
        `UPDATE "config"."nodes" n SET
           "last_ok" = u.ok, "last_revision" = u.r, "last_hash" = u.h, "last_files" = u.f::jsonb, "last_at" = u.at,
           "applied_revision" = CASE WHEN u.ok THEN u.r ELSE n."applied_revision" END,
           "applied_hash" = CASE WHEN u.ok THEN u.h ELSE n."applied_hash" END,
           "drift" = CASE WHEN u.ok THEN '[]'::jsonb ELSE n."drift" END
         FROM unnest($1::text[], $2::bool[], $3::int[], $4::text[], $5::text[], $6::timestamptz[]) AS u(i, ok, r, h, f, at)
         WHERE n."node_id" = u.i AND (n."last_at" IS NULL OR n."last_at" <= u.at)
         RETURNING n."node_id"`,
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
      const ok = applies.filter((a) => a.report.ok);
      if (ok.length) void this.events.emit(CONFIG_EVENTS.applied, { nodes: ok.map((a) => ({ nodeId: a.nodeId, revision: a.report.revision, hash: a.report.hash })) });
      for (const a of applies.filter((x) => !x.report.ok)) {
        void this.events.emit(CONFIG_EVENTS.applyFailed, {
          nodeId: a.nodeId,
          revision: a.report.revision,
          hash: a.report.hash,
          files: a.report.files.filter((f) => !['written', 'unchanged', 'removed'].includes(f.result)),
        });
      }
    }
    if (drifts.length) {
      await this.db.query(
        `UPDATE "config"."nodes" n SET "drift" = u.d::jsonb, "drift_at" = u.at
         FROM unnest($1::text[], $2::text[], $3::timestamptz[]) AS u(i, d, at)
         WHERE n."node_id" = u.i AND (n."drift_at" IS NULL OR n."drift_at" <= u.at)`,
        [drifts.map((d) => d.nodeId), drifts.map((d) => JSON.stringify(d.report.drift)), drifts.map((d) => d.report.at)],
      );
      reports.inc({ kind: 'drift', result: 'stored' }, drifts.length);
      for (const d of drifts) {
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
