import { consumeBatches, type BatchItem, type BatchedConsumer, type MessageBus } from '#lib/messaging';
import { agentDiscoveryReportSchema, agentInstanceId } from '#contracts/discovery';
import { counter, histogram } from '#lib/telemetry';
import type { z } from 'zod';
import type { CatalogService } from '../catalog/catalog.service.js';
import { emptyDraft } from '../catalog/records.js';
import { applyCheckReports, reportsToWrite } from '../catalog/transitions.js';

const reportsTotal = counter('fleet_discovery_agent_reports_total', 'Agent check reports, by kind and whether they changed the catalog', [
  'kind',
  'result',
]);
const batchSize = histogram('fleet_discovery_report_batch_size', 'Agent reports written per transaction', [], [1, 2, 5, 10, 50, 100, 250, 500]);

export const REPORT_DURABLE = 'discovery-agent-reports';

/**
 * How long a report pulled by a replica that died waits for another. Batches are written in far
 * less and slow ones are kept alive with in-progress acks, so this only bounds crash recovery:
 * health transitions held by a dead replica reach the catalog within 5 s, not 30.
 */
export const REPORT_ACK_WAIT_MS = 5_000;

type ReportItem = BatchItem<z.output<typeof agentDiscoveryReportSchema>, string>;

/**
 * Check transitions and periodic summaries from agents (`<root>.agent.*.report.discovery`), on
 * the shared batched consumer: up to 500 reports or 5 ms per batch, from any number of nodes,
 * folded in with ONE transaction and one multi-row write; nodes whose reports change nothing the
 * catalog shows are acknowledged without touching the database. One batch at a time: the cache
 * that decides "changes nothing" is only up to date once the batch before has committed.
 * Malformed reports (a subject without a valid node id included) are terminated and counted by
 * the shared consumer; every write error, FleetError or not, naks the batch for redelivery (a
 * report is never bad input once it parsed: the fold ignores unknown checks and stale reports).
 */
export function consumeAgentReports(bus: MessageBus, catalog: CatalogService): Promise<BatchedConsumer> {
  return consumeBatches(bus, {
    durable: REPORT_DURABLE,
    stream: bus.subjects.reportsStream,
    filterSubject: bus.subjects.anyAgentReport('discovery'),
    schema: agentDiscoveryReportSchema,
    name: 'discovery.report',
    maxBatch: 500,
    flushMs: 5,
    concurrency: 1,
    ackWaitMs: REPORT_ACK_WAIT_MS,
    requireNodeId: true,
    onFleetError: 'retry',
    handler: (items) => writeReports(catalog, items),
  });
}

async function writeReports(catalog: CatalogService, items: ReportItem[]): Promise<void> {
  const byNode = reportsToWrite(
    (id) => catalog.cache.get(id),
    items.map((i) => ({ nodeId: i.nodeId, checks: i.input.checks })),
  );
  const written = items.filter((i) => byNode.has(i.nodeId));
  if (written.length > 0) {
    const ids = [...new Set([...byNode].flatMap(([nodeId, checks]) => checks.map((c) => agentInstanceId(nodeId, c.serviceId))))];
    const now = new Date().toISOString();
    await catalog.commit({ ids }, (rows) => {
      const draft = emptyDraft();
      for (const [nodeId, reports] of byNode) {
        draft.upserts.push(...applyCheckReports(rows.filter((r) => r.nodeId === nodeId), nodeId, reports, now).upserts);
      }
      return draft;
    });
    batchSize.observe(written.length);
  }
  for (const i of items) reportsTotal.inc({ kind: i.input.kind, result: byNode.has(i.nodeId) ? 'changed' : 'unchanged' });
}
