import { AckPolicy, DeliverPolicy, jetstreamManager, type JsMsg } from '@nats-io/jetstream';
import { decodeJson, type MessageBus } from '#lib/messaging';
import { JsonLogger, OncePerCause, counter } from '#lib/telemetry';
import { nodeIdSchema } from '#contracts/common';
import { UPDATE_REPORT_AREA, updateReportSchema, type UpdateReport } from '#contracts/updater';
import { ensureDurable } from './ensure-durable.js';

/**
 * How long a report pulled by a replica that then died waits before JetStream hands it to
 * another: the delay a hard kill adds to every node with a report in flight. Batches are applied
 * in well under a second (≤ 500 reports; ~1,500 reports/s in the 10,000-node benchmark), so 5 s
 * is ample; a batch that does take longer (a database stall) is kept alive with in-progress acks
 * so it is not redelivered while it is applied. Reports still waiting in the client's buffer
 * behind a stalled batch may be redelivered: harmless, the state machine ignores repeats. (It was
 * 30 s: about 30 s of the kill-and-restart rollout in `updates-rollout.e2e` went to waiting.)
 */
export const REPORT_ACK_WAIT_MS = 5_000;

const consumed = counter('fleet_updater_report_messages_total', 'Update report messages taken from JetStream, by result', ['result']);

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
 * The durable consumer of agent update reports (`<root>.agent.*.report.update`), like
 * `consumeDurable` but in batches: up to `maxBatch` reports or `flushMs` old go to the handler
 * together, so applying them costs a few statements instead of a few per report. A batch is
 * acknowledged only after its handler succeeded (else it is redelivered); malformed messages
 * are terminated one by one, counted and logged once per cause. Reports of one node keep their
 * order (one consumer, batches in stream order).
 */
export async function consumeReports(bus: MessageBus, options: ReportConsumerOptions): Promise<{ stop(): Promise<void> }> {
  const logger = new JsonLogger('updater', `consumer:${options.durable}`);
  const problems = new OncePerCause(logger);
  const jsm = await jetstreamManager(bus.nc);
  const ackWaitMs = options.ackWaitMs ?? REPORT_ACK_WAIT_MS;
  const outcome = await ensureDurable(jsm.consumers, bus.subjects.reportsStream, {
    durable_name: options.durable,
    filter_subject: bus.subjects.anyAgentReport(UPDATE_REPORT_AREA),
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: ackWaitMs * 1e6,
    max_deliver: 20,
    max_ack_pending: options.maxBatch * 4,
  });
  if (outcome === 'updated') logger.log('report consumer settings updated', { durable: options.durable, ackWaitMs });
  const consumer = await bus.js.consumers.get(bus.subjects.reportsStream, options.durable);
  const messages = await consumer.consume({ max_messages: options.maxBatch * 2 });
  const agentIndex = bus.subjects.agentIdIndex;
  let batch: Array<{ item: ReportItem; m: JsMsg }> = [];
  let timer: NodeJS.Timeout | undefined;
  let chain: Promise<void> = Promise.resolve();

  const handle = async (b: typeof batch): Promise<void> => {
    if (b.length === 0) return;
    try {
      await options.handler(b.map((x) => x.item));
      for (const x of b) x.m.ack();
      consumed.inc({ result: 'ok' }, b.length);
    } catch (err) {
      logger.error(`report batch of ${b.length} failed, will retry`, err as Error);
      for (const x of b) x.m.nak(1000);
      consumed.inc({ result: 'retry' }, b.length);
    }
  };
  const flush = (): Promise<void> => {
    clearTimeout(timer);
    timer = undefined;
    const b = batch;
    batch = [];
    // From now until acked, also while queued behind a slow batch: "still working on it".
    const alive = setInterval(() => {
      for (const x of b) x.m.working();
    }, ackWaitMs / 2);
    chain = chain.then(() => handle(b)).finally(() => clearInterval(alive));
    return chain;
  };

  const loop = (async () => {
    for await (const m of messages) {
      const nodeId = nodeIdSchema.safeParse(m.subject.split('.')[agentIndex]);
      const decoded = decodeJson(m.data);
      const parsed = decoded.ok ? updateReportSchema.safeParse(decoded.value) : null;
      if (!nodeId.success || !parsed?.success) {
        const why = !nodeId.success ? 'bad node id' : !decoded.ok ? 'not JSON' : 'schema';
        problems.warn(`report:${why}`, 'dropped malformed update report', {
          subject: m.subject,
          reason: parsed && !parsed.success ? parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') : why,
        });
        m.term();
        consumed.inc({ result: 'malformed' });
        continue;
      }
      batch.push({ item: { nodeId: nodeId.data, report: parsed.data }, m });
      if (batch.length >= options.maxBatch) await flush();
      else timer ??= setTimeout(() => void flush(), options.flushMs);
    }
    await flush();
  })();

  return {
    async stop() {
      await messages.close().catch(() => undefined);
      await loop.catch(() => undefined);
      await chain;
    },
  };
}
