import { Inject, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { MessagingModule, type MessageBus } from '#lib/messaging';
import { ConfigApi } from './api/config-api.js';
import { Db, createConfigDataSource } from './database/data-source.js';
import { DraftService } from './drafts/draft.service.js';
import { ConfigEvents } from './events.js';
import { DesiredStateService } from './nodes/desired-state.service.js';
import { InventorySync } from './nodes/inventory-sync.js';
import { Nudger } from './nodes/nudger.js';
import { ProvisioningService } from './provisioning/provisioning.service.js';
import { ReportConsumer } from './reports/report-consumer.js';
import { PublishService } from './revisions/publish.service.js';
import { RevisionStore } from './revisions/revision-store.js';
import { SchemaService } from './schemas/schema.service.js';
import { CONFIG_SETTINGS, type ConfigSettings } from './settings.js';
import { StatusService } from './status/status.service.js';

class DatabaseShutdown implements OnApplicationShutdown {
  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}
  async onApplicationShutdown(): Promise<void> {
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}

/** The config service: revisions, drafts, schemas, desired state per node, reports, provisioning. */
@Module({})
export class ConfigModule {
  static forRoot(settings: ConfigSettings, bus: MessageBus, poolSize: number): DynamicModule {
    return {
      module: ConfigModule,
      imports: [MessagingModule.forBus(bus)],
      providers: [
        { provide: CONFIG_SETTINGS, useValue: settings },
        { provide: DataSource, useFactory: async () => createConfigDataSource(settings.databaseUrl, poolSize).initialize() },
        { provide: Db, inject: [DataSource], useFactory: (ds: DataSource) => Db.of(ds) },
        DatabaseShutdown,
        ConfigEvents,
        RevisionStore,
        DraftService,
        SchemaService,
        DesiredStateService,
        PublishService,
        StatusService,
        ReportConsumer,
        InventorySync,
        Nudger,
        ProvisioningService,
        ConfigApi,
      ],
    };
  }
}
