import { context, propagation, trace, SpanKind, SpanStatusCode, type Span } from '@opentelemetry/api';

export const tracer = trace.getTracer('fleetcore');

/** Carrier for W3C trace context: plain string map, which NATS headers are copied into/out of. */
export type Carrier = Record<string, string>;

export function currentTraceCarrier(): Carrier {
  const carrier: Carrier = {};
  propagation.inject(context.active(), carrier);
  return carrier;
}

/** Runs `fn` in a span whose parent is the remote context in `carrier`, ending it either way. */
export async function withRemoteSpan<T>(
  name: string,
  carrier: Carrier,
  attributes: Record<string, string | number>,
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  const parent = propagation.extract(context.active(), carrier);
  return tracer.startActiveSpan(name, { kind: SpanKind.CONSUMER, attributes }, parent, async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
      throw err;
    } finally {
      span.end();
    }
  });
}
