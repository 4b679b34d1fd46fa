import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MessageBus } from '#lib/messaging';
import { startSimulator } from '../../../apps/agent/src/simulator/simulator.js';
import { AgentTestBed, PrivateNats, RecordingFeature, eventually, testRuntime } from './support.js';

/** Real disconnects: a private nats-server is killed and started again on the same port. */
describe('agent runtime across NATS restarts', () => {
  const nats = new PrivateNats();
  let bed: AgentTestBed;
  let agentBus: MessageBus;

  beforeAll(async () => {
    await nats.start();
    bed = new AgentTestBed(nats.url);
    await bed.setUp();
    agentBus = await MessageBus.connect({ url: nats.url, name: 'agent', subjectRoot: bed.root, service: 'agent' });
  });
  afterAll(async () => {
    await agentBus?.drain().catch(() => undefined);
    await bed?.tearDown().catch(() => undefined);
    await nats.dispose();
  });

  it('sends hello again after a reconnect, then tells the features', async () => {
    const feature = new RecordingFeature();
    const { runtime, scheduler } = testRuntime(agentBus, 'rc-1', { features: [{ feature, config: { note: 'x' } }] });
    void (async () => {
      for await (const s of agentBus.nc.status()) if (s.type === 'reconnect') runtime.reconnected();
    })();
    try {
      runtime.start();
      await runtime.firstHello;
      await eventually(() => feature.calls.includes('start'));
      const hellos = runtime.counters.hellos - runtime.counters.helloFailures;

      await nats.stop();
      await nats.start();

      await eventually(() => runtime.counters.reconnects === 1, 15_000);
      await eventually(() => runtime.counters.hellos - runtime.counters.helloFailures > hellos, 15_000);
      await eventually(() => feature.calls.includes('reconnect'), 5000);
      expect(feature.calls.indexOf('reconnect')).toBeGreaterThan(feature.calls.indexOf('start'));
      await eventually(async () => (await bed.node('rc-1'))?.status === 'online', 10_000);
    } finally {
      await runtime.stop();
      scheduler.stop();
    }
  });

  it('has every virtual node of the simulator say hello again after its shared connection reconnects', async () => {
    const sim = await startSimulator({
      nodes: 60,
      prefix: 'rs-',
      natsUrl: nats.url,
      subjectRoot: bed.root,
      connections: 2,
      features: [],
      dataDir: join(tmpdir(), 'fleet-sim-reconnect'),
    });
    try {
      await sim.allRegistered();
      const before = sim.stats();
      expect(before.hellos - before.helloFailures).toBe(60);

      await nats.stop();
      await nats.start();

      await eventually(() => sim.stats().reconnects === 60, 15_000);
      await eventually(() => {
        const s = sim.stats();
        return s.hellos - s.helloFailures >= 120;
      }, 15_000);
      const summary = await eventually(async () => {
        const s = await bed.summary();
        return (s.byStatus.online ?? 0) >= 60 ? s : undefined;
      }, 10_000);
      expect(summary.total).toBeGreaterThanOrEqual(60);
    } finally {
      await sim.stop();
    }
  });
});
