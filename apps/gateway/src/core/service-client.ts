import { Inject, Injectable } from '@nestjs/common';
import type { z } from 'zod';
import { FleetError, parseOrThrow } from '#contracts/common';
import { MessageBus } from '#lib/messaging';
import { GATEWAY_ENV } from './tokens.js';
import type { GatewayEnv } from '../env.js';

export interface CallOptions<R extends z.ZodType> {
  timeoutMs?: number;
  /** Checks the reply's shape; a service answering out of contract becomes a 502-ish `internal`. */
  reply?: R;
}

/**
 * The gateway's one way to reach a platform service: `bus.request` on
 * `<root>.svc.<service>.<verb>`. A `FleetError` from the service (or `unavailable` / `timeout`
 * from the bus) propagates unchanged; the exception filter turns its code into an HTTP status.
 */
@Injectable()
export class ServiceClient {
  constructor(
    @Inject(MessageBus) private readonly bus: MessageBus,
    @Inject(GATEWAY_ENV) private readonly env: GatewayEnv,
  ) {}

  async call<T = unknown, R extends z.ZodType = z.ZodType<T>>(
    service: string,
    verb: string,
    body: unknown,
    options: CallOptions<R> = {},
  ): Promise<R extends z.ZodType<infer O> ? O : T> {
    const subject = this.bus.subjects.svc(service, verb);
    const data = await this.bus.request(subject, body, options.timeoutMs ?? this.env.SERVICE_TIMEOUT_MS);
    if (!options.reply) return data as never;
    try {
      return parseOrThrow(options.reply, data, `${service}.${verb} reply`) as never;
    } catch (err) {
      throw new FleetError('internal', `${service}.${verb} answered out of contract: ${(err as Error).message}`);
    }
  }

  /** Binds a service name once: `const inventory = client.for('inventory'); inventory.call('get', {id})`. */
  for(service: string): { call: <T = unknown>(verb: string, body: unknown, timeoutMs?: number) => Promise<T> } {
    return { call: (verb, body, timeoutMs) => this.call(service, verb, body, { timeoutMs }) as never };
  }

  /** Pings a service: its answer, or the error that stood in the way. */
  async ping(service: string, timeoutMs: number): Promise<{ ok: true; data: unknown } | { ok: false; error: FleetError }> {
    try {
      return { ok: true, data: await this.bus.request(this.bus.subjects.svc(service, 'ping'), {}, timeoutMs) };
    } catch (err) {
      return { ok: false, error: err instanceof FleetError ? err : new FleetError('unavailable', String(err)) };
    }
  }

  get natsConnected(): boolean {
    return this.bus.isConnected;
  }
}
