import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { MessageBus, encodeJson } from '#lib/messaging';
import { RESTART_EXIT_CODE, runAgent } from '../../../apps/agent/src/run/run-agent.js';
import { agentVersion } from '../../../apps/agent/src/version.js';
import { TEST_NATS_URL } from '../../support/infra.js';
import { AgentTestBed, RecordingFeature, eventually, testRuntime } from './support.js';

describe('agent runtime against the real inventory', () => {
  const bed = new AgentTestBed(TEST_NATS_URL);
  const stops: Array<() => Promise<void> | void> = [];

  beforeAll(async () => {
    await bed.setUp({ startInventory: false });
  });
  afterAll(async () => {
    for (const stop of stops.reverse()) await stop();
    await bed.tearDown();
  });

  it('retries hello with backoff while the inventory is down, registers once it is up, and heartbeats on the inventory interval', async () => {
    const feature = new RecordingFeature();
    const { runtime, scheduler } = testRuntime(bed.client, 'rt-1', { features: [{ feature, config: { note: 'x' } }] });
    stops.push(() => runtime.stop(), () => scheduler.stop());
    runtime.start();
    await eventually(() => runtime.counters.helloFailures >= 2, 5000);
    expect(runtime.registered).toBe(false);
    expect(feature.calls).not.toContain('start');

    await bed.startInventory();
    await runtime.firstHello;
    // The agent was configured with 60 s; the inventory says 0.3 s and wins.
    expect(runtime.heartbeatIntervalMs).toBe(300);
    const node = await eventually(async () => {
      const n = await bed.node('rt-1');
      return n?.load ? n : undefined;
    }, 5000);
    expect(node).toMatchObject({
      hostname: 'rt-1.test',
      group: 'edge',
      channel: 'beta',
      labels: { zone: 'a' },
      arch: 'x86_64',
      kernel: '6.6.21',
      agentVersion: '0.1.0',
      status: 'online',
      health: 'healthy',
      // contributed by the feature's facts() hook, asked before the first hello
      bootedSlot: 'b',
      os: { name: 'Fleet Linux', version: '4081.3.0' },
      load: [0.5, 0.4, 0.3],
      memory: { totalBytes: 8e9, availableBytes: 4e9 },
    });
    await eventually(() => feature.calls.includes('start'));
    expect(feature.calls.indexOf('facts')).toBeLessThan(feature.calls.indexOf('start'));
    expect(feature.context).toMatchObject({ nodeId: 'rt-1', simulated: false });
    expect(feature.context!.facts()).toMatchObject({ nodeId: 'rt-1', bootedSlot: 'b', osVersion: '4081.3.0', group: 'edge' });
    const before = runtime.counters.heartbeats;
    await eventually(() => runtime.counters.heartbeats >= before + 3, 3000);

    await runtime.stop();
    expect(feature.calls.at(-1)).toBe('stop');
  });

  it('says hello again on a hello-again notice, and ignores malformed notices', async () => {
    const { runtime, scheduler } = testRuntime(bed.client, 'rt-2');
    stops.push(() => runtime.stop(), () => scheduler.stop());
    runtime.start();
    await runtime.firstHello;
    const hellos = runtime.counters.hellos;
    const subject = bed.client.subjects.node('rt-2', 'hello-again');
    bed.client.nc.publish(subject, new TextEncoder().encode('not json'));
    bed.client.nc.publish(subject, encodeJson({ v: 2, reason: 'future' }));
    bed.client.nc.publish(subject, encodeJson({ v: 1 }));
    bed.client.publish(subject, { v: 1, reason: 'x'.repeat(10_000) });
    bed.client.publish(subject, { v: 1, reason: 'test' });
    await eventually(() => runtime.counters.helloAgain === 1 && runtime.counters.hellos === hellos + 1, 5000);
    // and it goes on heartbeating
    const beats = runtime.counters.heartbeats;
    await eventually(() => runtime.counters.heartbeats > beats, 3000);
  });

  it('treats a malformed hello reply as a failed hello and retries', async () => {
    // A misbehaving server on a private root: the first replies are not valid hello replies.
    const root = `${bed.root}x`;
    const bus = await MessageBus.connect({ url: TEST_NATS_URL, name: 'bad-server', subjectRoot: root, service: 'inventory' });
    stops.push(() => bus.drain());
    let calls = 0;
    bus.serve(bus.subjects.anyAgent('hello'), {
      name: 'bad.hello',
      schema: z.unknown(),
      handler: (_input, ctx) => {
        calls++;
        if (calls === 1) return { nodeId: ctx.nodeId };
        if (calls === 2) return { nodeId: ctx.nodeId, registered: true, heartbeatIntervalSeconds: -5 };
        return { nodeId: ctx.nodeId, registered: true, heartbeatIntervalSeconds: 0.2 };
      },
    });
    const { runtime, scheduler } = testRuntime(bus, 'rt-bad');
    stops.push(() => runtime.stop(), () => scheduler.stop());
    runtime.start();
    await runtime.firstHello;
    expect(calls).toBe(3);
    expect(runtime.counters.helloFailures).toBe(2);
    expect(runtime.heartbeatIntervalMs).toBe(200);
  });

  it('leaves no closed subscriptions behind on a shared bus as virtual nodes restart', async () => {
    const bus = await MessageBus.connect({ url: TEST_NATS_URL, name: 'churn', subjectRoot: `${bed.root}c`, service: 'agent' });
    stops.push(() => bus.drain());
    for (let i = 0; i < 3000; i++) {
      const { runtime, scheduler } = testRuntime(bus, `churn-${i % 10}`);
      runtime.start();
      await runtime.stop();
      scheduler.stop();
    }
    const held = (bus as unknown as { subscriptions: unknown[] }).subscriptions.length;
    expect(held).toBeLessThanOrEqual(1024);
  });

  it('comes back after being decommissioned: the inventory asks for hello again on its next heartbeat', async () => {
    const { runtime, scheduler } = testRuntime(bed.client, 'rt-3');
    stops.push(() => runtime.stop(), () => scheduler.stop());
    runtime.start();
    await runtime.firstHello;
    await bed.call('decommission', { id: 'rt-3' });
    expect(await bed.node('rt-3')).toBeUndefined();
    await eventually(() => runtime.counters.helloAgain >= 1, 5000);
    await eventually(async () => (await bed.node('rt-3'))?.status === 'online', 5000);
  });

  it('runs a real agent from a config file, and exits with the restart code when a feature asks to restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fleet-agent-run-'));
    stops.push(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'agent.yaml');
    writeFileSync(
      file,
      [
        `natsUrl: ${TEST_NATS_URL}`,
        `subjectRoot: ${bed.root}`,
        'nodeId: real-1',
        `dataDir: ${join(dir, 'data')}`,
        'group: lab',
        'labels: { rack: r7 }',
        'hostname: real-1.lab',
        'os: { name: Demo OS, version: 9.9.9 }',
        'logLevel: error',
        'recording: { note: hello }',
      ].join('\n'),
    );
    const feature = new RecordingFeature();
    const agent = await runAgent(file, { features: [() => feature] });
    stops.push(() => void agent.shutdown());
    await agent.runtime.firstHello;
    const node = await eventually(async () => {
      const n = await bed.node('real-1');
      return n?.memory ? n : undefined;
    }, 5000);
    expect(node).toMatchObject({ hostname: 'real-1.lab', group: 'lab', labels: { rack: 'r7' }, agentVersion: agentVersion() });
    expect(node.memory!.totalBytes).toBeGreaterThan(0);
    expect(node.disk!.totalBytes).toBeGreaterThan(0);
    await eventually(() => feature.context);
    await feature.context!.restart('new OS slot');
    await expect(agent.done).resolves.toBe(RESTART_EXIT_CODE);
    expect(feature.calls.at(-1)).toBe('stop');
  });
});
