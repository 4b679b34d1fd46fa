import { hostname } from 'node:os';
import { Inject, Injectable } from '@nestjs/common';
import { ensureReportStream, MessageBus } from '#lib/messaging';
import { JsonLogger } from '#lib/telemetry';
import { serviceChangedEventSchema, DISCOVERY } from '#contracts/discovery';
import { eventEnvelopeSchema } from '#contracts/common';
import { serveAgentRegistration } from './agents/agent.handlers.js';
import { consumeAgentReports } from './agents/report-consumer.js';
import { serveDiscoveryApi } from './api/api.handlers.js';
import { CatalogQueries } from './catalog/catalog.queries.js';
import { CatalogService } from './catalog/catalog.service.js';
import { CatalogStore } from './catalog/catalog.store.js';
import { DnsServer } from './dns/dns-server.js';
import type { DiscoveryEnv } from './env.js';
import { consumeInventoryEvents } from './nodes/inventory-events.js';
import { registerPlatformService, type PlatformRegistration } from '#lib/messaging';
import { Reaper } from './reaper/reaper.js';

export const DISCOVERY_ENV = Symbol('DISCOVERY_ENV');

const changeEventSchema = eventEnvelopeSchema.extend({ data: serviceChangedEventSchema });

/**
 * Starts and stops the moving parts in an order that keeps replies honest: the cache is loaded
 * before anything is served; on shutdown, parked blocking queries are answered first so the bus
 * can drain at once.
 */
@Injectable()
export class DiscoveryRuntime {
  private readonly logger = new JsonLogger('discovery', 'runtime');
  private consumers: Array<{ stop(): Promise<void> }> = [];
  private resyncTimer?: NodeJS.Timeout;
  private reaper?: Reaper;
  private dns?: DnsServer;
  private self?: PlatformRegistration;

  constructor(
    @Inject(DISCOVERY_ENV) private readonly env: DiscoveryEnv,
    @Inject(MessageBus) private readonly bus: MessageBus,
    @Inject(CatalogService) readonly catalog: CatalogService,
    @Inject(CatalogQueries) private readonly queries: CatalogQueries,
    @Inject(CatalogStore) private readonly store: CatalogStore,
  ) {}

  get dnsPort(): number | undefined {
    return this.dns?.port;
  }

  get isLeader(): boolean {
    return this.reaper?.isLeader ?? false;
  }

  async start(): Promise<void> {
    const { bus, env } = this;
    // Other replicas' changes: plain subscription (no queue group), every replica sees them all.
    bus.consume(bus.subjects.event(DISCOVERY, 'service.*'), {
      name: 'discovery.change-event',
      schema: changeEventSchema,
      queue: false,
      trace: false,
      maxBytes: 4 * 1024 * 1024,
      handler: (event) => this.catalog.applyEvent(event.data),
    });
    await bus.nc.flush();
    await this.catalog.resync();
    this.scheduleResync();

    serveDiscoveryApi(bus, this.catalog, this.queries);
    serveAgentRegistration(bus, this.catalog);
    await ensureReportStream(bus);
    this.consumers.push(await consumeAgentReports(bus, this.catalog));
    this.consumers.push(await consumeInventoryEvents(bus, this.catalog));

    this.reaper = new Reaper(env.DATABASE_URL, this.store, this.catalog, env.DISCOVERY_SWEEP_MS, this.logger, env.DISCOVERY_LEADER_RETRY_MS, bus);
    this.reaper.start();

    if (env.DNS_ENABLED) {
      this.dns = new DnsServer(
        this.catalog.cache,
        { host: env.DNS_HOST, port: env.DNS_PORT, domain: env.DNS_DOMAIN, ttl: env.DNS_TTL },
        this.logger.child('dns'),
      );
      await this.dns.start();
    }
    if (env.FLEET_SELF_REGISTER) {
      this.self = registerPlatformService(bus, {
        name: DISCOVERY,
        address: env.DISCOVERY_ADVERTISE_ADDRESS ?? (env.DNS_HOST === '0.0.0.0' ? hostname() : env.DNS_HOST),
        port: this.dns?.port ?? 0,
        tags: ['fleetcore', ...(this.dns ? ['dns'] : [])],
      });
    }
  }

  private scheduleResync(): void {
    this.resyncTimer = setTimeout(() => {
      this.catalog
        .resync()
        .catch((err: Error) => this.logger.warn('resync failed', { error: err.message }))
        .finally(() => this.scheduleResync());
    }, this.env.DISCOVERY_RESYNC_MS);
    this.resyncTimer.unref();
  }

  async stop(): Promise<void> {
    clearTimeout(this.resyncTimer);
    this.resyncTimer = undefined;
    await this.self?.close();
    this.catalog.waiters.close();
    await this.dns?.stop();
    await this.reaper?.stop();
    await Promise.all(this.consumers.map((c) => c.stop()));
    this.consumers = [];
  }
}

