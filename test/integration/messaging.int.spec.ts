import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { jetstreamManager } from '@nats-io/jetstream';
import { FleetError } from '#contracts/common';
import { MessageBus, consumeBatches, consumeDurable, encodeJson, ensureReportStream } from '#lib/messaging';
import { TEST_NATS_URL, deleteStreams, eventually, testSubjectRoot } from '../support/infra.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('MessageBus against real NATS', () => {
  const root = testSubjectRoot();
  let server: MessageBus;
  let client: MessageBus;
  const seen: number[] = [];

  beforeAll(async () => {
    server = await MessageBus.connect({ url: TEST_NATS_URL, name: 'test-server', subjectRoot: root, service: 'echo' });
    client = await MessageBus.connect({ url: TEST_NATS_URL, name: 'test-client', subjectRoot: root, service: 'client' });
    server.serve(server.subjects.svc('echo', 'double'), {
      name: 'echo.double',
      schema: z.object({ n: z.number().int() }),
      maxBytes: 1024,
      handler: ({ n }) => {
        if (n < 0) throw new FleetError('conflict', 'negative numbers are not doubled');
        if (n === 13) throw new Error('unlucky');
        return { n: n * 2 };
      },
    });
    server.consume(server.subjects.anyAgent('tick'), {
      name: 'echo.tick',
      schema: z.object({ v: z.literal(1), n: z.number() }),
      handler: ({ n }, ctx) => {
        expect(ctx.nodeId).toBe('node-1');
        seen.push(n);
      },
    });
    await server.nc.flush();
  });

  afterAll(async () => {
    await client.drain();
    await server.drain();
    await deleteStreams(root);
  });

  it('replies with data for a valid request', async () => {
    await expect(client.request(client.subjects.svc('echo', 'double'), { n: 21 })).resolves.toEqual({ n: 42 });
  });

  it('replies with a typed validation error for a bad payload', async () => {
    const err = (await client.request(client.subjects.svc('echo', 'double'), { n: 'x' }).catch((e: unknown) => e)) as FleetError;
    expect(err).toBeInstanceOf(FleetError);
    expect(err.code).toBe('validation_failed');
    expect(err.message).toMatch(/n:/);
  });

  it('replies bad_request to bytes that are not JSON, and payload_too_large to big ones', async () => {
    const raw = await client.nc.request(client.subjects.svc('echo', 'double'), new TextEncoder().encode('{nope'));
    expect(raw.json()).toMatchObject({ ok: false, error: { code: 'bad_request' } });
    const big = await client.nc.request(client.subjects.svc('echo', 'double'), encodeJson({ n: 1, pad: 'x'.repeat(2000) }));
    expect(big.json()).toMatchObject({ ok: false, error: { code: 'payload_too_large' } });
  });

  it('passes domain errors through and hides internal ones', async () => {
    await expect(client.request(client.subjects.svc('echo', 'double'), { n: -1 })).rejects.toMatchObject({ code: 'conflict' });
    await expect(client.request(client.subjects.svc('echo', 'double'), { n: 13 })).rejects.toMatchObject({ code: 'internal' });
    // ... and keeps serving afterwards.
    await expect(client.request(client.subjects.svc('echo', 'double'), { n: 2 })).resolves.toEqual({ n: 4 });
  });

  it('reports unavailable when nobody serves a subject', async () => {
    await expect(client.request(client.subjects.svc('nobody', 'x'), {}, 500)).rejects.toMatchObject({ code: 'unavailable' });
  });

  it('drops malformed and unknown-version publishes but keeps consuming good ones', async () => {
    const subject = client.subjects.agent('node-1', 'tick');
    client.nc.publish(subject, new TextEncoder().encode('garbage'));
    client.publish(subject, { v: 2, n: 1 });
    client.publish(subject, { v: 1, n: 'x' });
    client.publish(subject, { v: 1, n: 7 });
    await eventually(() => seen.includes(7));
    expect(seen).toEqual([7]);
  });

  it('creates the event stream idempotently and deduplicates events by id', async () => {
    await server.ensureEventStream();
    await client.ensureEventStream();
    await server.emit('test', 'happened', { x: 1 }, 'event-1');
    await server.emit('test', 'happened', { x: 1 }, 'event-1');
    const jsm = await jetstreamManager(server.nc);
    const info = await jsm.streams.info(server.subjects.eventsStream);
    expect(info.state.messages).toBe(1);
  });
});

describe('durable JetStream consumers', () => {
  const root = testSubjectRoot();
  let bus: MessageBus;

  beforeAll(async () => {
    bus = await MessageBus.connect({ url: TEST_NATS_URL, name: 'durable', subjectRoot: root, service: 'svc' });
    await ensureReportStream(bus);
  });
  afterAll(async () => {
    await bus.drain();
    await deleteStreams(root);
  });

  it('delivers reports once, drops malformed ones, and retries a failing handler', async () => {
    const got: string[] = [];
    let failOnce = true;
    const consumer = await consumeDurable(bus, {
      durable: 'test-consumer',
      stream: bus.subjects.reportsStream,
      filterSubject: bus.subjects.anyAgentReport('update'),
      name: 'test.report',
      schema: z.object({ v: z.literal(1), state: z.string() }),
      handler: async (input, meta) => {
        if (input.state === 'flaky' && failOnce) {
          failOnce = false;
          throw new Error('database down');
        }
        got.push(`${meta.nodeId}:${input.state}`);
      },
    });
    const subject = bus.subjects.agentReport('n1', 'update');
    await bus.js.publish(subject, new TextEncoder().encode('not json'));
    await bus.js.publish(subject, encodeJson({ v: 1, state: 'staged' }), { msgID: 'a' });
    await bus.js.publish(subject, encodeJson({ v: 1, state: 'staged' }), { msgID: 'a' });
    await bus.js.publish(subject, encodeJson({ v: 1, state: 'flaky' }), { msgID: 'b' });
    await eventually(() => got.length === 2, 10_000);
    expect(got).toEqual(['n1:staged', 'n1:flaky']);
    await consumer.stop();
  });
});

describe('batched JetStream consumers', () => {
  const root = testSubjectRoot();
  let bus: MessageBus;
  const schema = z.object({ v: z.literal(1), n: z.number() });

  beforeAll(async () => {
    bus = await MessageBus.connect({ url: TEST_NATS_URL, name: 'batched', subjectRoot: root, service: 'svc' });
    await ensureReportStream(bus);
  });
  afterAll(async () => {
    await bus.drain();
    await deleteStreams(root);
  });

  const publish = async (area: string, nodes: number, from = 0) => {
    for (let i = 0; i < nodes; i++) bus.nc.publish(bus.subjects.agentReport(`n${from + i}`, area), encodeJson({ v: 1, n: from + i }));
    await bus.nc.flush();
  };

  it('hands over batches of at most maxBatch, terminates malformed messages, and redelivers a failed batch', async () => {
    const batches: number[][] = [];
    let failures = 1;
    const consumer = await consumeBatches(bus, {
      durable: 'batches',
      stream: bus.subjects.reportsStream,
      filterSubject: bus.subjects.anyAgentReport('a'),
      name: 'test.batch',
      schema,
      maxBatch: 40,
      flushMs: 20,
      handler: async (items) => {
        if (failures-- > 0) throw new Error('database down');
        expect(items.every((i) => i.nodeId === `n${i.input.n}`)).toBe(true);
        batches.push(items.map((i) => i.input.n));
      },
    });
    bus.nc.publish(bus.subjects.agentReport('bad', 'a'), new TextEncoder().encode('{"v":2}'));
    await publish('a', 100);
    await eventually(() => new Set(batches.flat()).size === 100, 10_000);
    expect(batches.every((b) => b.length <= 40)).toBe(true);
    expect(batches.flat().sort((x, y) => x - y)).toEqual([...new Set(batches.flat())].sort((x, y) => x - y));
    await consumer.stop();
    const info = await (await jetstreamManager(bus.nc)).consumers.info(bus.subjects.reportsStream, 'batches');
    expect(info.num_ack_pending).toBe(0);
    expect(info.num_pending).toBe(0);
  });

  it('runs at most `concurrency` batches at once and finishes them on stop', async () => {
    let running = 0;
    let peak = 0;
    let done = 0;
    const consumer = await consumeBatches(bus, {
      durable: 'concurrent',
      stream: bus.subjects.reportsStream,
      filterSubject: bus.subjects.anyAgentReport('c'),
      name: 'test.concurrent',
      schema,
      maxBatch: 10,
      flushMs: 5,
      concurrency: 3,
      handler: async (items) => {
        peak = Math.max(peak, ++running);
        await new Promise((r) => setTimeout(r, 50));
        running--;
        done += items.length;
      },
    });
    await publish('c', 200);
    await eventually(() => done >= 100, 10_000);
    await consumer.stop();
    expect(running).toBe(0);
    expect(peak).toBe(3);
  });

  it('with concurrency 1 runs batches one after another in stream order, also when the flush timer cuts them', async () => {
    let running = 0;
    let peak = 0;
    const seen: number[] = [];
    const consumer = await consumeBatches(bus, {
      durable: 'ordered',
      stream: bus.subjects.reportsStream,
      filterSubject: bus.subjects.anyAgentReport('o'),
      name: 'test.ordered',
      schema,
      maxBatch: 100,
      flushMs: 5,
      handler: async (items) => {
        peak = Math.max(peak, ++running);
        await sleep(60);
        seen.push(...items.map((i) => i.input.n));
        running--;
      },
    });
    // Each message's flush timer fires while the batch before it is still being handled.
    for (let i = 0; i < 10; i++) {
      await publish('o', 1, i);
      await sleep(20);
    }
    await eventually(() => seen.length === 10, 10_000);
    await consumer.stop();
    expect(peak).toBe(1);
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('keeps messages waiting behind a batch slower than ack_wait alive, so none is redelivered', async () => {
    const seen: number[] = [];
    const consumer = await consumeBatches(bus, {
      durable: 'slow',
      stream: bus.subjects.reportsStream,
      filterSubject: bus.subjects.anyAgentReport('s'),
      name: 'test.slow',
      schema,
      maxBatch: 100,
      flushMs: 10,
      ackWaitMs: 1000,
      handler: async (items) => {
        seen.push(...items.map((i) => i.input.n));
        if (items.some((i) => i.input.n === 0)) await sleep(2500);
      },
    });
    await publish('s', 1, 0);
    await eventually(() => seen.length === 1, 10_000);
    // Delivered now, handled after the slow batch: waits 2.5 s against an ack_wait of 1 s.
    await publish('s', 1, 1);
    await eventually(() => seen.length === 2, 10_000);
    await sleep(1500);
    await consumer.stop();
    expect(seen).toEqual([0, 1]);
    const info = await (await jetstreamManager(bus.nc)).consumers.info(bus.subjects.reportsStream, 'slow');
    expect(info.delivered.consumer_seq).toBe(2); // every delivery counts, redeliveries too
    expect(info.num_ack_pending).toBe(0);
  });

  it('terminates a batch whose handler rejects it as bad input', async () => {
    let calls = 0;
    const consumer = await consumeBatches(bus, {
      durable: 'rejecting',
      stream: bus.subjects.reportsStream,
      filterSubject: bus.subjects.anyAgentReport('r'),
      name: 'test.rejecting',
      schema,
      maxBatch: 100,
      flushMs: 10,
      handler: async () => {
        calls++;
        throw new FleetError('bad_request', 'not for us');
      },
    });
    await publish('r', 5);
    await eventually(() => calls >= 1, 10_000);
    await new Promise((r) => setTimeout(r, 300));
    await consumer.stop();
    expect(calls).toBe(1);
  });
});
