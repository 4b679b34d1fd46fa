import { Inject, Injectable } from '@nestjs/common';
import { INVENTORY, INVENTORY_EVENTS, type NodeView } from '#contracts/inventory';
import { MessageBus } from '#lib/messaging';
import { JsonLogger, OncePerCause, counter } from '#lib/telemetry';

const emitted = counter('fleet_inventory_events_total', 'Inventory events published, by event and result', [
  'event',
  'result',
]);

/**
 * Publishes the inventory's events to JetStream. The database change has already committed when
 * an event is emitted, so publishing runs beside the request (a slow or absent JetStream never
 * delays a hello or an API answer): retried briefly with the same event id, then logged and
 * counted. `settle()` waits for every publish still in flight (shutdown).
 */
@Injectable()
export class InventoryEvents {
  private readonly logger = new JsonLogger('inventory', 'events');
  private readonly problems = new OncePerCause(this.logger);
  private readonly pending = new Set<Promise<void>>();

  constructor(@Inject(MessageBus) private readonly bus: MessageBus) {}

  registered(node: NodeView): Promise<void> {
    return this.emit(INVENTORY_EVENTS.registered, { node });
  }

  updated(node: NodeView, changed: string[]): Promise<void> {
    return this.emit(INVENTORY_EVENTS.updated, { node, changed });
  }

  online(nodeId: string, at: Date): Promise<void> {
    return this.emit(INVENTORY_EVENTS.online, { nodeId, at: at.toISOString() });
  }

  offline(nodeId: string, lastSeenAt: Date, at: Date): Promise<void> {
    return this.emit(INVENTORY_EVENTS.offline, { nodeId, lastSeenAt: lastSeenAt.toISOString(), at: at.toISOString() });
  }

  decommissioned(nodeId: string, at: Date): Promise<void> {
    return this.emit(INVENTORY_EVENTS.decommissioned, { nodeId, at: at.toISOString() });
  }

  get inFlight(): number {
    return this.pending.size;
  }

  async settle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  private emit(event: string, data: unknown): Promise<void> {
    const publishing = this.publish(event, data);
    this.pending.add(publishing);
    void publishing.finally(() => this.pending.delete(publishing));
    return publishing;
  }

  private async publish(event: string, data: unknown): Promise<void> {
    const id = crypto.randomUUID();
    for (let attempt = 1; ; attempt++) {
      try {
        // Same id on every attempt: JetStream stores the event once even if an ack was lost.
        await this.bus.emit(INVENTORY, event, data, id);
        emitted.inc({ event, result: 'ok' });
        return;
      } catch (err) {
        if (attempt >= 3) {
          emitted.inc({ event, result: 'failed' });
          this.problems.warn(`emit:${event}`, 'could not publish inventory event', {
            event,
            error: (err as Error).message,
          });
          return;
        }
        await new Promise((r) => setTimeout(r, 100 * attempt));
      }
    }
  }
}
