/**
 * OpenTelemetry preload: `node --import ./dist/libs/telemetry/src/otel.js app.js`. It must run
 * before any Nest import (ESM hoists imports), which is why it is its own entry file. Without
 * OTEL_EXPORTER_OTLP_ENDPOINT the SDK still provides real spans and trace ids (for logs and
 * NATS headers), it just exports nothing.
 */
import { NodeSDK } from '@opentelemetry/sdk-node';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';

const endpoint = process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
const serviceName = process.env.OTEL_SERVICE_NAME ?? process.env.FLEET_SERVICE ?? 'fleetcore';

const sdk = new NodeSDK({
  resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: serviceName }),
  ...(endpoint ? { traceExporter: new OTLPTraceExporter({ url: `${endpoint.replace(/\/$/, '')}/v1/traces` }) } : {}),
});
sdk.start();

const shutdown = () => {
  sdk.shutdown().catch(() => undefined);
};
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);
