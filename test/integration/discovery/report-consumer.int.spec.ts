import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AckPolicy, DeliverPolicy, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { encodeJson, ensureReportStream } from '#lib/messaging';
import { metricsRegistry } from '#lib/telemetry';
import type { AgentDiscoveryReport, AgentRegisterReply, HealthState } from '#contracts/discovery';
import { REPORT_ACK_WAIT_MS, REPORT_DURABLE } from '../../../apps/discovery/src/agents/report-consumer.js';
import { eventually } from '../../support/infra.js';
import { DiscoveryHarness } from './support.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Sum of a counter's values whose labels include `labels`. */
async function counted(name: string, labels: Record<string, string>): Promise<number> {
  const metric = metricsRegistry.getSingleMetric(name);
  if (!metric) return 0;
  const { values } = await metric.get();
  return values.filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x)).reduce((n, v) => n + v.value, 0);
}

/**
 * Discovery's agent report consumer (on the shared `consumeBatches`) against real NATS and
 * PostgreSQL: the durable it inherits, malformed reports, failed writes, and a node's reports
 * replayed into one batch.
 */
describe('discovery: agent report consumer', () => {
  const h = new DiscoveryHarness();
  let jsm: JetStreamManager;
  let seq = 0;

  const register = (nodeId: string) =>
    h.client.request<AgentRegisterReply>(h.client.subjects.agent(nodeId, 'discovery.register'), {
      v: 1,
      services: [{ name: 'web', port: 80, address: '10.0.0.1', checks: [{ type: 'http', url: 'http://127.0.0.1/', id: 'h' }] }],
    });
  const check = (status: HealthState, at = new Date().toISOString()) => ({ serviceId: 'web', checkId: 'h', status, output: status, at });
  const publish = (nodeId: string, body: AgentDiscoveryReport | string) =>
    h.client.js.publish(h.client.subjects.agentReport(nodeId, 'discovery'), typeof body === 'string' ? new TextEncoder().encode(body) : encodeJson(body), {
      msgID: `${nodeId}-discovery-test-${++seq}`,
    });
  const webOf = async (nodeId: string) => (await h.instances('web')).instances.find((i) => i.nodeId === nodeId);
  const settled = async () => {
    const info = await jsm.consumers.info(h.client.subjects.reportsStream, REPORT_DURABLE);
    return info.num_pending === 0 && info.num_ack_pending === 0 ? info : undefined;
  };

  beforeAll(async () => {
    await h.setUp(0);
    await ensureReportStream(h.client);
    jsm = await jetstreamManager(h.client.nc);
    // The durable as discovery's own loop created it, which a running fleet still has.
    await jsm.consumers.add(h.client.subjects.reportsStream, {
      durable_name: REPORT_DURABLE,
      filter_subject: h.client.subjects.anyAgentReport('discovery'),
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: 30_000 * 1e6,
      max_deliver: 20,
      max_ack_pending: 5000,
    });
    await h.start();
  });
  afterAll(async () => {
    await h.sql('DROP TRIGGER IF EXISTS refuse_writes ON "discovery"."instances"').catch(() => undefined);
    await h.tearDown();
  });

  it('takes over the durable the earlier loop made, brought to the shared consumer\'s settings', async () => {
    const info = await jsm.consumers.info(h.client.subjects.reportsStream, REPORT_DURABLE);
    expect(info.config).toMatchObject({ ack_wait: REPORT_ACK_WAIT_MS * 1e6, max_deliver: 20, max_ack_pending: 500 * 4 });
  });

  it('terminates malformed reports, counts them, and applies the good one behind them', async () => {
    await register('m1');
    const before = await counted('fleet_jetstream_batched_messages_total', { consumer: REPORT_DURABLE, result: 'malformed' });
    await publish('m1', 'not json');
    await publish('m1', JSON.stringify({ v: 1, kind: 'transition', checks: [{ serviceId: 'web', checkId: 'h', status: 'sideways' }] }));
    await publish('-m1', { v: 1, kind: 'transition', checks: [check('passing')] }); // no valid node id in the subject
    await publish('m1', { v: 1, kind: 'transition', checks: [check('passing')] });
    await eventually(async () => (await webOf('m1'))?.health === 'passing');
    const info = await eventually(settled);
    expect(info.num_redelivered).toBe(0);
    expect(await counted('fleet_jetstream_batched_messages_total', { consumer: REPORT_DURABLE, result: 'malformed' })).toBe(before + 3);
    expect(await counted('fleet_discovery_agent_reports_total', { kind: 'transition', result: 'changed' })).toBeGreaterThanOrEqual(1);
  });

  it('acknowledges a summary that matches the catalog without a write', async () => {
    const node = await eventually(() => webOf('m1'));
    const unchanged = await counted('fleet_discovery_agent_reports_total', { kind: 'summary', result: 'unchanged' });
    await publish('m1', { v: 1, kind: 'summary', checks: [check('passing')] });
    await eventually(async () => (await counted('fleet_discovery_agent_reports_total', { kind: 'summary', result: 'unchanged' })) === unchanged + 1);
    await eventually(settled);
    expect((await webOf('m1'))?.modifyIndex).toBe(node.modifyIndex);
  });

  it('retries a batch whose write fails, and applies it once the database takes writes again', async () => {
    await register('f1');
    await h.sql(`CREATE OR REPLACE FUNCTION "discovery".refuse_writes() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'writes refused by the test'; END $$`);
    await h.sql('CREATE TRIGGER refuse_writes BEFORE INSERT OR UPDATE ON "discovery"."instances" FOR EACH ROW EXECUTE FUNCTION "discovery".refuse_writes()');
    await publish('f1', { v: 1, kind: 'transition', checks: [check('passing')] });
    // Redelivered (nak with a 1 s delay), and still not applied while writes fail.
    await eventually(async () => (await jsm.consumers.info(h.client.subjects.reportsStream, REPORT_DURABLE)).num_redelivered > 0, 10_000);
    expect((await webOf('f1'))?.health).toBe('critical');
    await h.sql('DROP TRIGGER refuse_writes ON "discovery"."instances"');
    await eventually(async () => (await webOf('f1'))?.health === 'passing', 10_000);
    await eventually(settled);
  });

  it('applies the newest of a node\'s reports replayed into one batch, also when it matches the catalog', async () => {
    await register('b1');
    await publish('b1', { v: 1, kind: 'transition', checks: [check('passing')] });
    await eventually(async () => (await webOf('b1'))?.health === 'passing');
    await eventually(settled);
    // Discovery is down while the check flaps: the backlog arrives as one batch at restart.
    await h.replicas[0].close();
    const t = Date.now();
    const newest = new Date(t + 2).toISOString();
    await publish('b1', { v: 1, kind: 'transition', checks: [check('critical', new Date(t + 1).toISOString())] });
    await publish('b1', { v: 1, kind: 'transition', checks: [check('passing', newest)] });
    await h.start();
    await sleep(200);
    await eventually(settled);
    const web = await webOf('b1');
    expect(web?.health).toBe('passing');
    expect(web?.checks[0]).toMatchObject({ status: 'passing', updatedAt: newest });
  });
});
