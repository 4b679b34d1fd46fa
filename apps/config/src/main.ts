import 'reflect-metadata';
import { pathToFileURL } from 'node:url';
import { NestFactory } from '@nestjs/core';
import type { INestApplicationContext } from '@nestjs/common';
import { MessageBus, ensureReportStream, registerPlatformService } from '#lib/messaging';
import { JsonLogger, startDefaultMetrics, startMetricsServer } from '#lib/telemetry';
import { ConfigApi } from './api/config-api.js';
import { ConfigModule } from './config.module.js';
import { migrateConfigDatabase } from './database/data-source.js';
import { parseConfigEnv } from './env.js';
import { DesiredStateService } from './nodes/desired-state.service.js';
import { InventorySync } from './nodes/inventory-sync.js';
import { Nudger } from './nodes/nudger.js';
import { ReportConsumer } from './reports/report-consumer.js';
import { settingsFromEnv } from './settings.js';
import { CONFIG_VERSION } from './version.js';

export { migrateConfigDatabase } from './database/data-source.js';

export interface RunningConfig {
  close(): Promise<void>;
  app: INestApplicationContext;
  bus: MessageBus;
}

/** Parses env, migrates, connects, and serves until `close()`. */
export async function startConfigService(env: NodeJS.ProcessEnv = process.env): Promise<RunningConfig> {
  const config = parseConfigEnv(env);
  JsonLogger.setLevel(config.LOG_LEVEL);
  const logger = new JsonLogger('config', 'main');
  startDefaultMetrics('config');
  await migrateConfigDatabase(config.DATABASE_URL);
  const bus = await MessageBus.connect({
    url: config.NATS_URL,
    credentials: config.NATS_CREDENTIALS,
    name: 'fleetcore-config',
    subjectRoot: config.FLEET_SUBJECT_ROOT,
    service: 'config',
    logger: logger.child('MessageBus'),
  });
  let app: INestApplicationContext;
  try {
    await bus.ensureEventStream();
    await ensureReportStream(bus);
    app = await NestFactory.createApplicationContext(ConfigModule.forRoot(settingsFromEnv(config), bus, config.DATABASE_POOL_SIZE), {
      logger: new JsonLogger('config'),
      abortOnError: false,
    });
  } catch (err) {
    await bus.drain().catch(() => undefined);
    throw err;
  }
  app.get(ConfigApi).serve();
  await app.get(ReportConsumer).start();
  await app.get(InventorySync).start();
  app.get(Nudger).start();
  bus.servePing(CONFIG_VERSION);
  await bus.nc.flush();
  // Nodes whose desired state predates this process (e.g. a deployment changed while it was down).
  void app.get(DesiredStateService).requestReconcile();
  const metrics = config.METRICS_PORT > 0 ? await startMetricsServer(config.METRICS_PORT, { isHealthy: () => bus.isConnected, token: config.METRICS_TOKEN, logger }) : undefined;
  // Appear in the discovery catalog as `config`, so `fleetctl services ls` shows the control plane.
  const registration = config.FLEET_SELF_REGISTER ? registerPlatformService(bus, { name: 'config', port: config.METRICS_PORT }) : undefined;
  logger.info('config service started', { subjectRoot: config.FLEET_SUBJECT_ROOT, roots: config.CONFIG_ALLOWED_ROOTS });

  let closing: Promise<void> | undefined;
  return {
    app,
    bus,
    close: () =>
      (closing ??= (async () => {
        await registration?.close();
        await new Promise<void>((resolve) => (metrics ? metrics.close(() => resolve()) : resolve()));
        await app.get(Nudger).stop();
        await app.get(InventorySync).stop();
        await app.get(ReportConsumer).stop();
        await app.get(DesiredStateService).idle();
        await bus.drain();
        await app.close();
        logger.info('config service stopped');
      })()),
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  startConfigService().then(
    (service) => {
      const stop = () => {
        service.close().then(
          () => process.exit(0),
          (err: Error) => {
            new JsonLogger('config', 'main').error('shutdown failed', err);
            process.exit(1);
          },
        );
      };
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    },
    (err: Error) => {
      process.stderr.write(`config: ${err.message}\n`);
      process.exit(1);
    },
  );
}
