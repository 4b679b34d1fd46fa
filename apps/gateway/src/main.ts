import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import type { Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { MessageBus, registerPlatformService } from '#lib/messaging';
import { JsonLogger, METRICS_TOKEN_UNSET_WARNING, startDefaultMetrics } from '#lib/telemetry';
import { AppModule } from './app.module.js';
import { AuditWriter } from './audit/audit-writer.js';
import { setupOpenApi } from './core/openapi.js';
import { requestContext } from './core/request-context.js';
import { createGatewayDataSource, migrateGatewayDatabase } from './database/data-source.js';
import { parseGatewayEnv } from './env.js';
import { TokensService } from './tokens/tokens.service.js';
import { GATEWAY_VERSION } from './version.js';

export { migrateGatewayDatabase } from './database/data-source.js';

/** Request bodies above this are refused with 413 `payload_too_large`. */
export const BODY_LIMIT_BYTES = 1024 * 1024;

export interface GatewayHandle {
  close(): Promise<void>;
  /** `http://<host>:<port>` with the port actually bound (PORT=0 picks one); loopback when bound to all interfaces. */
  url: string;
  port: number;
  app: NestExpressApplication;
}

export interface GatewayOptions {
  /** Where the once-only bootstrap token line goes; stdout by default. */
  print?: (line: string) => void;
  /** Modules mounted after the built-in areas (embedding, tests). */
  extraModules?: Type[];
}

/**
 * Starts the HTTP gateway: migrates its schema (tokens, audit log), connects to NATS, ensures
 * a bootstrap admin token, and serves the REST API, health, metrics and OpenAPI on `PORT`.
 */
export async function startGatewayService(
  envSource: NodeJS.ProcessEnv = process.env,
  options: GatewayOptions = {},
): Promise<GatewayHandle> {
  const env = parseGatewayEnv(envSource);
  JsonLogger.setLevel(env.LOG_LEVEL);
  startDefaultMetrics('gateway');
  const logger = new JsonLogger('gateway', 'Gateway');

  await migrateGatewayDatabase(env.DATABASE_URL);
  const dataSource = createGatewayDataSource(env.DATABASE_URL);
  await dataSource.initialize();
  let bus: MessageBus | undefined;
  let app: NestExpressApplication | undefined;
  try {
    bus = await MessageBus.connect({
      url: env.NATS_URL,
      credentials: env.NATS_CREDENTIALS,
      name: 'fleetcore-gateway',
      subjectRoot: env.FLEET_SUBJECT_ROOT,
      service: 'gateway',
    });
    bus.servePing(GATEWAY_VERSION);

    app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot({ env, dataSource, bus, extraModules: options.extraModules }), {
      logger: new JsonLogger('gateway'),
      bodyParser: false,
    });
    if (env.TRUST_PROXY) app.set('trust proxy', trustProxyValue(env.TRUST_PROXY));
    app.disable('x-powered-by');
    const audit = app.get(AuditWriter);
    // Order matters: request ids and the access log see every request, even ones the body parser refuses.
    app.use(requestContext(new JsonLogger('gateway', 'Http'), (done) => audit.record(done)));
    app.useBodyParser('json', {
      limit: BODY_LIMIT_BYTES,
      // Machines' compatibility clients (FleetLock) may send JSON without a Content-Type.
      type: (req) => isJsonOrUntyped(req.headers['content-type']),
    });
    setupOpenApi(app, GATEWAY_VERSION);

    const { generated } = await app.get(TokensService).bootstrap();
    if (generated) {
      (options.print ?? ((line) => process.stdout.write(line)))(
        `\nFleetcore bootstrap admin token (shown once, store it now): ${generated}\n\n`,
      );
    }

    await app.listen(env.PORT, env.HOST);
    const port = (app.getHttpServer().address() as AddressInfo).port;
    logger.info('gateway listening', { port, subject_root: env.FLEET_SUBJECT_ROOT });
    if (!env.METRICS_TOKEN) logger.warn(METRICS_TOKEN_UNSET_WARNING);

    // Appear in the discovery catalog (and DNS) as `gateway`, with the HTTP port.
    const registration = env.FLEET_SELF_REGISTER ? registerPlatformService(bus, { name: 'gateway', port, tags: ['fleetcore', 'http'] }) : undefined;
    const started = { app, bus };
    let closing: Promise<void> | undefined;
    return {
      app,
      port,
      url: `http://${['0.0.0.0', '::', ''].includes(env.HOST) ? '127.0.0.1' : env.HOST.includes(':') ? `[${env.HOST}]` : env.HOST}:${port}`,
      // Idempotent: the second caller waits for the first shutdown.
      close: () =>
        (closing ??= (async () => {
          await registration?.close();
          await started.app.close();
          await started.bus.drain();
          await dataSource.destroy();
        })()),
    };
  } catch (err) {
    await app?.close().catch(() => undefined);
    await bus?.drain().catch(() => undefined);
    await dataSource.destroy().catch(() => undefined);
    throw err;
  }
}

function isJsonOrUntyped(contentType: string | undefined): boolean {
  return !contentType || /^application\/([\w.-]+\+)?json\s*(;|$)/i.test(contentType);
}

function trustProxyValue(value: string): boolean | number | string {
  if (value === 'true' || value === 'false') return value === 'true';
  return /^\d+$/.test(value) ? Number(value) : value;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const handle = await startGatewayService().catch((err: Error) => {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  });
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    handle.close().then(
      () => process.exit(0),
      (err: Error) => {
        process.stderr.write(`shutdown failed: ${err.message}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
