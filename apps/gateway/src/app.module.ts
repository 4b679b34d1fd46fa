import { Module, type DynamicModule, type Type } from '@nestjs/common';
import { MessagingModule, type MessageBus } from '#lib/messaging';
import { AREA_MODULES } from './areas.js';
import { CoreModule, type CoreOptions } from './core/core.module.js';

@Module({})
export class AppModule {
  static forRoot(options: CoreOptions & { bus: MessageBus; extraModules?: Type[] }): DynamicModule {
    return {
      module: AppModule,
      imports: [MessagingModule.forBus(options.bus), CoreModule.forRoot(options), ...AREA_MODULES, ...(options.extraModules ?? [])],
    };
  }
}
