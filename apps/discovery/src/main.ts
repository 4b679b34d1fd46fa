import 'reflect-metadata';
import { pathToFileURL } from 'node:url';
import { NestFactory } from '@nestjs/core';
import type { INestApplicationContext } from '@nestjs/common';
import { MessageBus } from '#lib/messaging';
import { JsonLogger, startDefaultMetrics, startMetricsServer } from '#lib/telemetry';
import { migrateDiscoveryDatabase } from './database/data-source.js';
import { DiscoveryModule } from './discovery.module.js';
import { DiscoveryRuntime } from './discovery.runtime.js';
import { parseDiscoveryEnv } from './env.js';
import { DISCOVERY_VERSION } from './version.js';

export { migrateDiscoveryDatabase } from './database/data-source.js';
export { registerPlatformService } from '#lib/messaging';

export interface RunningDiscovery {
  close(): Promise<void>;
  app: INestApplicationContext;
  bus: MessageBus;
  /** The port the DNS server got (useful with DNS_PORT=0); undefined when DNS is disabled. */
  dnsPort: number | undefined;
}

/** Parses env, migrates, connects, loads the catalog and serves until `close()`. */
export async function startDiscoveryService(env: NodeJS.ProcessEnv = process.env): Promise<RunningDiscovery> {
  const config = parseDiscoveryEnv(env);
  JsonLogger.setLevel(config.LOG_LEVEL);
  const logger = new JsonLogger('discovery', 'main');
  startDefaultMetrics('discovery');
  await migrateDiscoveryDatabase(config.DATABASE_URL);
  const bus = await MessageBus.connect({
    url: config.NATS_URL,
    credentials: config.NATS_CREDENTIALS,
    name: 'fleetcore-discovery',
    subjectRoot: config.FLEET_SUBJECT_ROOT,
    service: 'discovery',
    logger: logger.child('MessageBus'),
  });
  let app: INestApplicationContext;
  let runtime: DiscoveryRuntime;
  try {
    await bus.ensureEventStream();
    app = await NestFactory.createApplicationContext(DiscoveryModule.forRoot(config, bus), {
      logger: new JsonLogger('discovery'),
      abortOnError: false,
    });
    runtime = app.get(DiscoveryRuntime);
    await runtime.start();
  } catch (err) {
    await bus.drain().catch(() => undefined);
    throw err;
  }
  bus.servePing(DISCOVERY_VERSION);
  await bus.nc.flush();
  const metrics = config.METRICS_PORT > 0 ? await startMetricsServer(config.METRICS_PORT, { isHealthy: () => bus.isConnected, token: config.METRICS_TOKEN, logger }) : undefined;
  logger.info('discovery service started', { subjectRoot: config.FLEET_SUBJECT_ROOT, dnsPort: runtime.dnsPort });

  let closing: Promise<void> | undefined;
  return {
    app,
    bus,
    dnsPort: runtime.dnsPort,
    close: () =>
      (closing ??= (async () => {
        await new Promise<void>((resolve) => (metrics ? metrics.close(() => resolve()) : resolve()));
        await runtime.stop();
        await bus.drain().catch(() => undefined);
        await app.close();
        logger.info('discovery service stopped');
      })()),
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  startDiscoveryService().then(
    (service) => {
      const stop = () => {
        service.close().then(
          () => process.exit(0),
          (err: Error) => {
            new JsonLogger('discovery', 'main').error('shutdown failed', err);
            process.exit(1);
          },
        );
      };
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    },
    (err: Error) => {
      process.stderr.write(`discovery: ${err.message}\n`);
      process.exit(1);
    },
  );
}
