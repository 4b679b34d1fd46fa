import 'reflect-metadata';
import { pathToFileURL } from 'node:url';
import { NestFactory } from '@nestjs/core';
import { MessageBus, registerPlatformService } from '#lib/messaging';
import { JsonLogger, startDefaultMetrics, startMetricsServer } from '#lib/telemetry';
import { UPDATER } from '#contracts/updater';
import { ControllerRunner } from './controller/controller.runner.js';
import { UpdaterEvents } from './common/updater-events.js';
import { createUpdaterDataSource, migrateUpdaterDatabase } from './database/data-source.js';
import { parseUpdaterEnv } from './env.js';
import { UpdaterModule } from './updater.module.js';

export { migrateUpdaterDatabase };

const VERSION = '0.1.0';

export interface RunningUpdater {
  close(): Promise<void>;
  /** True while this replica runs the rollout controller (tests, health). */
  readonly isLeader: boolean;
}

/**
 * Starts one updater replica: migrates, connects, serves the releases/rollouts/locks API and the
 * agent protocol, and joins the election for the rollout controller.
 */
export async function startUpdaterService(env: NodeJS.ProcessEnv = process.env): Promise<RunningUpdater> {
  const config = parseUpdaterEnv(env);
  JsonLogger.setLevel(config.LOG_LEVEL);
  const logger = new JsonLogger(UPDATER);
  startDefaultMetrics(UPDATER);
  await migrateUpdaterDatabase(config.DATABASE_URL);
  const db = createUpdaterDataSource(config.DATABASE_URL, config.DATABASE_POOL_SIZE);
  await db.initialize();
  const bus = await MessageBus.connect({
    url: config.NATS_URL,
    credentials: config.NATS_CREDENTIALS,
    name: 'fleetcore-updater',
    subjectRoot: config.FLEET_SUBJECT_ROOT,
    service: UPDATER,
    logger,
  });
  await bus.ensureEventStream();
  const app = await NestFactory.createApplicationContext(UpdaterModule.forRoot({ env: config, db, bus }), { logger });
  await app.init();
  bus.servePing(VERSION);
  await bus.nc.flush();
  const metrics = config.METRICS_PORT ? await startMetricsServer(config.METRICS_PORT, { isHealthy: () => bus.isConnected, token: config.METRICS_TOKEN, logger }) : undefined;
  const runner = app.get(ControllerRunner);
  const events = app.get(UpdaterEvents);
  // Appear in the discovery catalog as `updater`, so `fleetctl services ls` shows the control plane.
  const registration = config.FLEET_SELF_REGISTER ? registerPlatformService(bus, { name: UPDATER, port: config.METRICS_PORT }) : undefined;
  logger.log('updater started', { subjectRoot: config.FLEET_SUBJECT_ROOT });
  let closed = false;
  return {
    get isLeader() {
      return runner.isLeader;
    },
    async close() {
      if (closed) return;
      closed = true;
      await registration?.close();
      await app.close();
      await events.flush();
      await bus.drain();
      await new Promise<void>((resolve) => (metrics ? metrics.close(() => resolve()) : resolve()));
      await db.destroy();
    },
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const running = await startUpdaterService();
  const stop = async () => {
    await running.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
}
