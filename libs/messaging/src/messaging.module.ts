import { Global, Inject, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { MessageBus } from './bus.js';
import type { NatsConnectOptions } from './connect.js';

export interface MessagingOptions extends NatsConnectOptions {
  subjectRoot: string;
  service: string;
}

class BusShutdown implements OnApplicationShutdown {
  constructor(@Inject(MessageBus) private readonly bus: MessageBus) {}
  async onApplicationShutdown(): Promise<void> {
    await this.bus.drain();
  }
}

/** Provides the connected `MessageBus` to a service; drains it when the app shuts down. */
@Global()
@Module({})
export class MessagingModule {
  static forRoot(options: MessagingOptions): DynamicModule {
    return {
      module: MessagingModule,
      providers: [
        { provide: MessageBus, useFactory: () => MessageBus.connect(options) },
        BusShutdown,
      ],
      exports: [MessageBus],
    };
  }

  /** Uses a bus the caller already connected (tests, `fleetcore up` sharing one connection). */
  static forBus(bus: MessageBus): DynamicModule {
    return {
      module: MessagingModule,
      providers: [{ provide: MessageBus, useValue: bus }],
      exports: [MessageBus],
    };
  }
}
