import { consumeBatches, type BatchedConsumer, type MessageBus } from '#lib/messaging';
import { UPDATE_REPORT_AREA, updateReportSchema, type UpdateReport } from '#contracts/updater';

/**
 * How long a report pulled by a replica that then died waits before JetStream hands it to
 * another: the delay a hard kill adds to every node with a report in flight. Batches are applied
 * in well under a second (≤ 500 reports; ~1,500 reports/s in the 10,000-node benchmark), so 5 s
 * is ample; a batch that does take longer (a database stall) is kept alive with in-progress acks
 * so it is not redelivered while it is applied. (It was 30 s: about 30 s of the kill-and-restart
 * rollout in `updates-rollout.e2e` went to waiting.)
 */
export const REPORT_ACK_WAIT_MS = 5_000;

export interface ReportItem {
  nodeId: string;
  report: UpdateReport;
}

export interface ReportConsumerOptions {
  durable: string;
  maxBatch: number;
  flushMs: number;
  /** Default `REPORT_ACK_WAIT_MS` (tests shorten it). */
  ackWaitMs?: number;
  handler: (items: ReportItem[]) => Promise<void>;
}

/**
 * The durable consumer of agent update reports (`<root>.agent.*.report.update`) on the shared
 * batched consumer. One batch at a time, in stream order, so each node's reports keep their
 * order. Malformed reports (a bad node id in the subject included) are terminated, counted and
 * logged once per cause; every handler error, FleetError or not, naks the batch for redelivery:
 * the handler drops reports that cannot belong itself, so a failure is transient and a lost
 * report would strand its node.
 */
export function consumeReports(bus: MessageBus, options: ReportConsumerOptions): Promise<BatchedConsumer> {
  return consumeBatches(bus, {
    durable: options.durable,
    stream: bus.subjects.reportsStream,
    filterSubject: bus.subjects.anyAgentReport(UPDATE_REPORT_AREA),
    schema: updateReportSchema,
    name: 'updater.report',
    maxBatch: options.maxBatch,
    flushMs: options.flushMs,
    concurrency: 1,
    ackWaitMs: options.ackWaitMs ?? REPORT_ACK_WAIT_MS,
    requireNodeId: true,
    onFleetError: 'retry',
    handler: (items) => options.handler(items.map(({ nodeId, input }) => ({ nodeId, report: input }))),
  });
}
