import { AckPolicy, DeliverPolicy, jetstreamManager, type JsMsg } from '@nats-io/jetstream';
import type { MessageBus } from '#lib/messaging';
import { decodeJson } from '#lib/messaging';
import { FleetError, parseOrThrow } from '#contracts/common';
import { agentDiscoveryReportSchema, agentInstanceId, type checkReportSchema } from '#contracts/discovery';
import { JsonLogger, OncePerCause, counter, histogram } from '#lib/telemetry';
import type { z } from 'zod';
import type { CatalogService } from '../catalog/catalog.service.js';
import { emptyDraft } from '../catalog/records.js';
import { applyCheckReports, reportsChangeNothing } from '../catalog/transitions.js';

const reportsTotal = counter('fleet_discovery_agent_reports_total', 'Agent check reports, by kind and whether they changed the catalog', [
  'kind',
  'result',
]);
const batchSize = histogram('fleet_discovery_report_batch_size', 'Agent reports written per transaction', [], [1, 2, 5, 10, 50, 100, 250, 500]);

const DURABLE = 'discovery-agent-reports';
const MAX_BATCH = 500;
const LINGER_MS = 5;

type Report = z.output<typeof checkReportSchema>;

export interface ReportConsumer {
  stop(): Promise<void>;
}

/**
 * Check transitions and periodic summaries from agents: a durable JetStream consumer shared by
 * the replicas, like `consumeDurable`, but batched. Reports that change nothing the catalog shows
 * are acknowledged without touching the database; the rest of a batch (up to 500 reports, from
 * any number of nodes) is folded in with ONE transaction and one multi-row write. Malformed
 * reports are terminated and counted; a failed transaction naks the batch for redelivery.
 */
export async function consumeAgentReports(bus: MessageBus, catalog: CatalogService): Promise<ReportConsumer> {
  const logger = new JsonLogger('discovery', 'agent-reports');
  const problems = new OncePerCause(logger);
  const jsm = await jetstreamManager(bus.nc);
  try {
    await jsm.consumers.add(bus.subjects.reportsStream, {
      durable_name: DURABLE,
      filter_subject: bus.subjects.anyAgentReport('discovery'),
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: 30_000 * 1e6,
      max_deliver: 20,
      max_ack_pending: 5000,
    });
  } catch (err) {
    if (!/already (exists|in use)/i.test(String((err as Error).message))) throw err;
  }
  const consumer = await bus.js.consumers.get(bus.subjects.reportsStream, DURABLE);
  const messages = await consumer.consume({ max_messages: 1000 });
  const agentIndex = bus.subjects.agentIdIndex;

  let pending: { msg: JsMsg; nodeId: string; kind: string; checks: Report[] }[] = [];
  let timer: NodeJS.Timeout | undefined;
  let flushing: Promise<void> = Promise.resolve();

  const flush = () => {
    clearTimeout(timer);
    timer = undefined;
    const batch = pending;
    pending = [];
    if (batch.length === 0) return;
    flushing = flushing.then(() => write(batch));
  };

  const write = async (batch: typeof pending) => {
    const changing = batch.filter((b) => {
      if (!reportsChangeNothing((id) => catalog.cache.get(id), b.nodeId, b.checks)) return true;
      b.msg.ack();
      reportsTotal.inc({ kind: b.kind, result: 'unchanged' });
      return false;
    });
    if (changing.length === 0) return;
    const byNode = new Map<string, Report[]>();
    for (const b of changing) byNode.set(b.nodeId, [...(byNode.get(b.nodeId) ?? []), ...b.checks]);
    const ids = [...new Set(changing.flatMap((b) => b.checks.map((c) => agentInstanceId(b.nodeId, c.serviceId))))];
    const now = new Date().toISOString();
    try {
      await catalog.commit({ ids }, (rows) => {
        const draft = emptyDraft();
        for (const [nodeId, reports] of byNode) {
          const d = applyCheckReports(rows.filter((r) => r.nodeId === nodeId), nodeId, reports, now);
          draft.upserts.push(...d.upserts);
        }
        return draft;
      });
      batchSize.observe(changing.length);
      for (const b of changing) {
        b.msg.ack();
        reportsTotal.inc({ kind: b.kind, result: 'changed' });
      }
    } catch (err) {
      logger.error('writing agent reports failed; they will be redelivered', err as Error);
      for (const b of changing) b.msg.nak(1000);
    }
  };

  const loop = (async () => {
    for await (const m of messages) {
      const nodeId = m.subject.split('.')[agentIndex];
      try {
        const decoded = decodeJson(m.data);
        if (!decoded.ok) throw new FleetError('bad_request', 'report is not JSON');
        const report = parseOrThrow(agentDiscoveryReportSchema, decoded.value, 'discovery report');
        pending.push({ msg: m, nodeId, kind: report.kind, checks: report.checks });
      } catch (err) {
        problems.warn(`report:${(err as FleetError).code ?? 'error'}`, 'dropped a malformed agent report', { reason: (err as Error).message });
        reportsTotal.inc({ kind: 'unknown', result: 'malformed' });
        m.term();
        continue;
      }
      if (pending.length >= MAX_BATCH) flush();
      else timer ??= setTimeout(flush, LINGER_MS);
    }
  })();

  return {
    async stop() {
      await messages.close().catch(() => undefined);
      await loop.catch(() => undefined);
      flush();
      await flushing;
    },
  };
}
