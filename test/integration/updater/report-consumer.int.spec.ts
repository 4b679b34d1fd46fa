import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AckPolicy, DeliverPolicy, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { FleetError } from '#contracts/common';
import { MessageBus, encodeJson, ensureReportStream } from '#lib/messaging';
import { UPDATE_REPORT_AREA } from '#contracts/updater';
import { REPORT_ACK_WAIT_MS, consumeReports, type ReportItem } from '../../../apps/updater/src/agents/report-consumer.js';
import { TEST_NATS_URL, deleteStreams, eventually, testSubjectRoot } from '../../support/infra.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The updater's durable report consumer against a real NATS JetStream. */
describe('updater report consumer', () => {
  const root = testSubjectRoot();
  let bus: MessageBus;
  let jsm: JetStreamManager;
  const stops: Array<{ stop(): Promise<void> }> = [];

  beforeAll(async () => {
    bus = await MessageBus.connect({ url: TEST_NATS_URL, name: 'report-consumer-test', subjectRoot: root, service: 'updater' });
    await ensureReportStream(bus);
    jsm = await jetstreamManager(bus.nc);
  });
  afterAll(async () => {
    for (const s of stops) await s.stop();
    await bus.drain();
    await deleteStreams(root);
  });

  async function publishReport(nodeId: string, state = 'downloading'): Promise<void> {
    const report = { v: 1, rolloutId: randomUUID(), version: '1.1.0', state, at: new Date().toISOString() };
    await bus.js.publish(bus.subjects.agentReport(nodeId, UPDATE_REPORT_AREA), encodeJson(report));
  }

  it('brings a durable made with the old 30 s ack_wait to 5 s at start, and consumes with it', async () => {
    const durable = 'upgraded';
    // What earlier versions created, and what a running fleet still has.
    await jsm.consumers.add(bus.subjects.reportsStream, {
      durable_name: durable,
      filter_subject: bus.subjects.anyAgentReport(UPDATE_REPORT_AREA),
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: 30_000 * 1e6,
      max_deliver: 20,
      max_ack_pending: 2000,
    });
    const seen: ReportItem[] = [];
    stops.push(await consumeReports(bus, { durable, maxBatch: 500, flushMs: 20, handler: async (items) => void seen.push(...items) }));
    const info = await jsm.consumers.info(bus.subjects.reportsStream, durable);
    expect(REPORT_ACK_WAIT_MS).toBe(5_000);
    expect(info.config.ack_wait).toBe(5_000 * 1e6);
    expect(info.config).toMatchObject({ max_deliver: 20, max_ack_pending: 2000, filter_subject: bus.subjects.anyAgentReport(UPDATE_REPORT_AREA) });
    await publishReport('node-upgraded');
    await eventually(() => seen.some((x) => x.nodeId === 'node-upgraded'));
  });

  it('keeps a batch that takes longer than ack_wait alive instead of having it redelivered', async () => {
    const handled: string[] = [];
    stops.push(
      await consumeReports(bus, {
        durable: 'slow',
        maxBatch: 500,
        flushMs: 20,
        ackWaitMs: 1000,
        handler: async (items) => {
          handled.push(...items.map((x) => x.nodeId).filter((id) => id === 'node-slow'));
          await sleep(2500);
        },
      }),
    );
    await publishReport('node-slow');
    await eventually(() => handled.length > 0);
    await sleep(3500);
    expect(handled).toEqual(['node-slow']);
    const info = await jsm.consumers.info(bus.subjects.reportsStream, 'slow');
    expect(info.num_redelivered).toBe(0);
    expect(info.num_ack_pending).toBe(0);
  });

  it('terminates reports without a valid node id or failing the schema, and retries a batch on any handler error', async () => {
    const seen: ReportItem[] = [];
    let failures = 1;
    const durable = 'strict';
    stops.push(
      await consumeReports(bus, {
        durable,
        maxBatch: 500,
        flushMs: 20,
        handler: async (items) => {
          // Not bad input: the updater drops reports that cannot belong itself, so this is transient.
          if (items.some((x) => x.nodeId === 'node-strict') && failures-- > 0) throw new FleetError('not_found', 'rollout row not visible yet');
          seen.push(...items);
        },
      }),
    );
    await publishReport('-bad');
    await publishReport('node-strict', 'nonsense');
    await publishReport('node-strict');
    await eventually(() => seen.some((x) => x.nodeId === 'node-strict'));
    expect(failures).toBe(-1);
    expect(seen.filter((x) => x.nodeId === 'node-strict').map((x) => x.report.state)).toEqual(['downloading']);
    expect(seen.some((x) => x.nodeId === '-bad')).toBe(false);
    await eventually(async () => (await jsm.consumers.info(bus.subjects.reportsStream, durable)).num_ack_pending === 0);
  });
});
