import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { trace } from '@opentelemetry/api';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { MessageBus } from '#lib/messaging';
import { TEST_NATS_URL, deleteStreams, eventually, testSubjectRoot } from '../support/infra.js';

/**
 * One trace spans gateway → service → agent: the bus puts W3C `traceparent` in NATS headers on
 * every request and publish, and opens the handler's span as a child of it.
 */
describe('trace context across NATS', () => {
  const root = testSubjectRoot();
  const exporter = new InMemorySpanExporter();
  let provider: NodeTracerProvider;
  let server: MessageBus;
  let client: MessageBus;
  const seenInHandler: string[] = [];

  beforeAll(async () => {
    provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    provider.register();
    server = await MessageBus.connect({ url: TEST_NATS_URL, name: 'trace-server', subjectRoot: root, service: 'svc' });
    client = await MessageBus.connect({ url: TEST_NATS_URL, name: 'trace-client', subjectRoot: root, service: 'gw' });
    server.serve(server.subjects.svc('svc', 'work'), {
      name: 'svc.work',
      schema: z.object({}),
      handler: () => {
        seenInHandler.push(trace.getActiveSpan()?.spanContext().traceId ?? 'none');
        return { done: true };
      },
    });
    server.consume(server.subjects.anyAgent('event'), {
      name: 'svc.event',
      schema: z.object({}),
      handler: () => {
        seenInHandler.push(trace.getActiveSpan()?.spanContext().traceId ?? 'none');
      },
    });
    await server.nc.flush();
  });

  afterAll(async () => {
    await client.drain();
    await server.drain();
    await provider.shutdown();
    await deleteStreams(root);
  });

  it('continues the caller trace in the request handler, as a child span', async () => {
    const tracer = trace.getTracer('test');
    const { traceId, spanId } = await tracer.startActiveSpan('http GET /api/v1/work', async (span) => {
      await client.request(client.subjects.svc('svc', 'work'), {});
      span.end();
      return span.spanContext();
    });
    expect(seenInHandler).toContain(traceId);
    const handlerSpan = exporter.getFinishedSpans().find((s) => s.name === 'svc.work');
    expect(handlerSpan?.spanContext().traceId).toBe(traceId);
    expect(handlerSpan?.parentSpanContext?.spanId).toBe(spanId);
  });

  it('continues it in a publish consumer too', async () => {
    const tracer = trace.getTracer('test');
    const traceId = tracer.startActiveSpan('agent tick', (span) => {
      client.publish(client.subjects.agent('n1', 'event'), {});
      span.end();
      return span.spanContext().traceId;
    });
    await eventually(() => seenInHandler.includes(traceId), 5000);
  });
});
