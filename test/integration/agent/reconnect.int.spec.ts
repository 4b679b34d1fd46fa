import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MessageBus } from '#lib/messaging';
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
});
