/**
 * OpenTelemetry preload: `node --import ./dist/libs/telemetry/src/otel.js app.js`. It must run
 * before any Nest import (ESM hoists imports), which is why it is its own entry file.
 *
 * It registers a real tracer provider with W3C propagation, so spans and trace ids exist for
 * logs and NATS headers even with no collector. The OTLP/HTTP exporter is loaded only when
 * OTEL_EXPORTER_OTLP_ENDPOINT is set: the all-in-one `sdk-node` loads every exporter and
 * doubled each process's start-up CPU.
 */
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';

const endpoint = process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
const serviceName = process.env.OTEL_SERVICE_NAME ?? process.env.FLEET_SERVICE ?? 'fleetcore';

const spanProcessors: SpanProcessor[] = [];
if (endpoint) {
  const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
  spanProcessors.push(
    new BatchSpanProcessor(new OTLPTraceExporter({ url: `${endpoint.replace(/\/$/, '')}/v1/traces` })),
  );
}

const provider = new NodeTracerProvider({
  resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: serviceName }),
  spanProcessors,
});
// Registers the provider, the AsyncLocalStorage context manager and W3C trace-context propagation.
provider.register();

// Flush spans on the way out. A listener replaces Node's default "exit on signal", so when the
// application has no handler of its own the signal is raised again once the flush is done.
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    provider
      .shutdown()
      .catch(() => undefined)
      .finally(() => {
        if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
      });
  });
}
