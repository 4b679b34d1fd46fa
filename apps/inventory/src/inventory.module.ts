import { Inject, Module, type BeforeApplicationShutdown, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { MessageBus, MessagingModule } from '#lib/messaging';
import { InventoryApi } from './api/inventory-api.js';
import { createInventoryDataSource } from './database/data-source.js';
import { Sql } from './database/sql.js';
import { HeartbeatService } from './heartbeats/heartbeat.service.js';
import { NodeAdminService } from './nodes/node-admin.service.js';
import { NodeQueryService } from './nodes/node-query.service.js';
import { RegistrationService } from './nodes/registration.service.js';
import { OfflineDetectorService } from './offline/offline-detector.service.js';
import { EventOutbox } from './outbox/event-outbox.service.js';
import { OutboxRelay } from './outbox/outbox-relay.service.js';
import { INVENTORY_SETTINGS, type InventorySettings } from './settings.js';

/**
 * Shutdown in dependency order: stop heartbeat intake and write the buffer, give up
 * offline-detection leadership, relay the outbox a last time (if this replica relays it), then
 * drain the bus (no new requests; in-flight handlers finish against the still-open database,
 * their events stay in the outbox for the next relay). The database closes last.
 */
class InventoryShutdown implements BeforeApplicationShutdown {
  constructor(
    @Inject(HeartbeatService) private readonly heartbeats: HeartbeatService,
    @Inject(OfflineDetectorService) private readonly detector: OfflineDetectorService,
    @Inject(OutboxRelay) private readonly relay: OutboxRelay,
    @Inject(MessageBus) private readonly bus: MessageBus,
  ) {}
  async beforeApplicationShutdown(): Promise<void> {
    await Promise.all([this.heartbeats.stop(), this.detector.stop()]);
    await this.relay.stop();
    await this.bus.drain();
  }
}

class DatabaseShutdown implements OnApplicationShutdown {
  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}
  async onApplicationShutdown(): Promise<void> {
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}

/**
 * The inventory service: node registry, heartbeat ingestion, offline detection, the query API,
 * and the event outbox with its relay.
 */
@Module({})
export class InventoryModule {
  static forRoot(settings: InventorySettings, bus: MessageBus, poolSize: number): DynamicModule {
    return {
      module: InventoryModule,
      imports: [MessagingModule.forBus(bus)],
      providers: [
        { provide: INVENTORY_SETTINGS, useValue: settings },
        {
          provide: DataSource,
          useFactory: async () => createInventoryDataSource(settings.databaseUrl, poolSize).initialize(),
        },
        { provide: Sql, inject: [DataSource], useFactory: (ds: DataSource) => Sql.of(ds) },
        InventoryShutdown,
        DatabaseShutdown,
        OutboxRelay,
        EventOutbox,
        NodeQueryService,
        NodeAdminService,
        RegistrationService,
        HeartbeatService,
        OfflineDetectorService,
        InventoryApi,
      ],
    };
  }
}
