import { Inject, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { MessageBus, MessagingModule } from '#lib/messaging';
import { JsonLogger } from '#lib/telemetry';
import { CatalogCache } from './catalog/catalog.cache.js';
import { CatalogQueries } from './catalog/catalog.queries.js';
import { CatalogService } from './catalog/catalog.service.js';
import { CatalogStore } from './catalog/catalog.store.js';
import { NodeResolver } from './catalog/node-resolver.js';
import { Waiters } from './catalog/waiters.js';
import { createDiscoveryDataSource } from './database/data-source.js';
import { DISCOVERY_ENV, DiscoveryRuntime } from './discovery.runtime.js';
import type { DiscoveryEnv } from './env.js';

class DatabaseShutdown implements OnApplicationShutdown {
  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}
  async onApplicationShutdown(): Promise<void> {
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}

/**
 * The discovery service: catalog (PostgreSQL + per-replica in-memory copy), NATS API, agent
 * registration and reports, inventory node events, elected reaper, DNS.
 */
@Module({})
export class DiscoveryModule {
  static forRoot(env: DiscoveryEnv, bus: MessageBus): DynamicModule {
    const logger = new JsonLogger('discovery', 'catalog');
    return {
      module: DiscoveryModule,
      imports: [MessagingModule.forBus(bus)],
      providers: [
        { provide: DISCOVERY_ENV, useValue: env },
        { provide: DataSource, useFactory: async () => createDiscoveryDataSource(env.DATABASE_URL).initialize() },
        DatabaseShutdown,
        { provide: CatalogStore, inject: [DataSource], useFactory: (ds: DataSource) => new CatalogStore(ds) },
        { provide: CatalogCache, useFactory: () => new CatalogCache() },
        { provide: Waiters, useFactory: () => new Waiters() },
        { provide: NodeResolver, inject: [MessageBus], useFactory: (b: MessageBus) => new NodeResolver(b) },
        {
          provide: CatalogService,
          inject: [CatalogStore, CatalogCache, Waiters, MessageBus],
          useFactory: (store: CatalogStore, cache: CatalogCache, waiters: Waiters, b: MessageBus) =>
            new CatalogService(store, cache, waiters, b, logger),
        },
        {
          provide: CatalogQueries,
          inject: [CatalogCache, Waiters, NodeResolver],
          useFactory: (cache: CatalogCache, waiters: Waiters, nodes: NodeResolver) => new CatalogQueries(cache, waiters, nodes),
        },
        DiscoveryRuntime,
      ],
    };
  }
}
