import 'reflect-metadata';
import type { Server } from 'node:http';
import { pathToFileURL } from 'node:url';
import { NestFactory } from '@nestjs/core';
import type { INestApplicationContext } from '@nestjs/common';
import { MessageBus, registerPlatformService } from '#lib/messaging';
import { JsonLogger, startDefaultMetrics, startMetricsServer } from '#lib/telemetry';
import { InventoryApi } from './api/inventory-api.js';
import { migrateInventoryDatabase } from './database/data-source.js';
import { HeartbeatService } from './heartbeats/heartbeat.service.js';
import { InventoryModule } from './inventory.module.js';
import { OfflineDetectorService } from './offline/offline-detector.service.js';
import { OutboxRelay } from './outbox/outbox-relay.service.js';
import { parseInventoryEnv } from './env.js';
import { settingsFromEnv } from './settings.js';
import { INVENTORY_VERSION } from './version.js';

export { migrateInventoryDatabase } from './database/data-source.js';

export interface RunningInventory {
  close(): Promise<void>;
  /** The Nest context, for tests and in-process launchers that want to look inside. */
  app: INestApplicationContext;
  bus: MessageBus;
}

/** Parses env, migrates, connects, and serves until `close()`. */
export async function startInventoryService(env: NodeJS.ProcessEnv = process.env): Promise<RunningInventory> {
  const config = parseInventoryEnv(env);
  JsonLogger.setLevel(config.LOG_LEVEL);
  const logger = new JsonLogger('inventory', 'main');
  startDefaultMetrics('inventory');
  await migrateInventoryDatabase(config.DATABASE_URL);
  const bus = await MessageBus.connect({
    url: config.NATS_URL,
    credentials: config.NATS_CREDENTIALS,
    name: 'fleetcore-inventory',
    subjectRoot: config.FLEET_SUBJECT_ROOT,
    service: 'inventory',
    logger: logger.child('MessageBus'),
  });
  let app: INestApplicationContext | undefined;
  let metrics: Server | undefined;
  try {
    await bus.ensureEventStream();
    app = await NestFactory.createApplicationContext(
      InventoryModule.forRoot(settingsFromEnv(config), bus, config.DATABASE_POOL_SIZE),
      { logger: new JsonLogger('inventory'), abortOnError: false },
    );
    app.get(OutboxRelay).start();
    app.get(HeartbeatService).start();
    app.get(InventoryApi).serve();
    app.get(OfflineDetectorService).start();
    bus.servePing(INVENTORY_VERSION);
    await bus.nc.flush();
    if (config.METRICS_PORT > 0) metrics = await startMetricsServer(config.METRICS_PORT, { isHealthy: () => bus.isConnected, token: config.METRICS_TOKEN, logger });
  } catch (err) {
    // Half-started: release what was taken (the app's shutdown drains the bus).
    if (app) await app.close().catch(() => undefined);
    else await bus.drain().catch(() => undefined);
    throw err;
  }
  const running = app;
  // Appear in the discovery catalog as `inventory`, so `fleetctl services ls` shows the control plane.
  const registration = config.FLEET_SELF_REGISTER ? registerPlatformService(bus, { name: 'inventory', port: config.METRICS_PORT }) : undefined;
  logger.info('inventory service started', {
    subjectRoot: config.FLEET_SUBJECT_ROOT,
    heartbeatIntervalSeconds: config.HEARTBEAT_INTERVAL_SECONDS,
    metricsPort: config.METRICS_PORT || undefined,
  });

  let closing: Promise<void> | undefined;
  return {
    app: running,
    bus,
    close: () =>
      (closing ??= (async () => {
        await registration?.close();
        if (metrics) {
          const closed = new Promise<void>((resolve) => metrics!.close(() => resolve()));
          metrics.closeAllConnections();
          await closed;
        }
        await running.close();
        logger.info('inventory service stopped');
      })()),
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  startInventoryService().then(
    (service) => {
      const stop = () => {
        service.close().then(
          () => process.exit(0),
          (err: Error) => {
            new JsonLogger('inventory', 'main').error('shutdown failed', err);
            process.exit(1);
          },
        );
      };
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    },
    (err: Error) => {
      process.stderr.write(`inventory: ${err.message}\n`);
      process.exit(1);
    },
  );
}
