import { Inject, Injectable } from '@nestjs/common';
import { CONFIG } from '#contracts/config';
import { MessageBus } from '#lib/messaging';
import { JsonLogger, OncePerCause, counter } from '#lib/telemetry';

const emitted = counter('fleet_config_events_total', 'Config events published, by event and result', ['event', 'result']);

/**
 * Publishes `<root>.events.config.<event>`. The state change has committed before an event goes
 * out, so a failed publish is retried briefly (same id, stored once) and then logged, never
 * failing the request that caused it.
 */
@Injectable()
export class ConfigEvents {
  private readonly problems = new OncePerCause(new JsonLogger('config', 'events'));

  constructor(@Inject(MessageBus) private readonly bus: MessageBus) {}

  async emit(event: string, data: unknown): Promise<void> {
    const id = crypto.randomUUID();
    for (let attempt = 1; ; attempt++) {
      try {
        await this.bus.emit(CONFIG, event, data, id);
        emitted.inc({ event, result: 'ok' });
        return;
      } catch (err) {
        if (attempt >= 3) {
          emitted.inc({ event, result: 'failed' });
          this.problems.warn(`emit:${event}`, 'could not publish config event', { event, error: (err as Error).message });
          return;
        }
        await new Promise((r) => setTimeout(r, 100 * attempt));
      }
    }
  }
}
