import { randomUUID } from 'node:crypto';
import type { EventEnvelope } from '#contracts/common';
import { INVENTORY, INVENTORY_EVENTS, type NodeView } from '#contracts/inventory';

export interface StagedEvent {
  /** `node.registered`, …: the last tokens of the subject. */
  event: string;
  envelope: EventEnvelope;
}

/**
 * The events one transaction causes, collected while it runs. `EventOutbox` inserts them into the
 * outbox before the transaction commits, so they exist exactly when the change does. Envelopes
 * are complete here (id, time): the relay publishes them byte for byte, however late.
 */
export class StagedEvents {
  readonly list: StagedEvent[] = [];

  get size(): number {
    return this.list.length;
  }

  registered(node: NodeView): void {
    this.stage(INVENTORY_EVENTS.registered, { node });
  }

  updated(node: NodeView, changed: string[]): void {
    this.stage(INVENTORY_EVENTS.updated, { node, changed });
  }

  online(nodeId: string, at: Date): void {
    this.stage(INVENTORY_EVENTS.online, { nodeId, at: at.toISOString() });
  }

  offline(nodeId: string, lastSeenAt: Date, at: Date): void {
    this.stage(INVENTORY_EVENTS.offline, { nodeId, lastSeenAt: lastSeenAt.toISOString(), at: at.toISOString() });
  }

  decommissioned(nodeId: string, at: Date): void {
    this.stage(INVENTORY_EVENTS.decommissioned, { nodeId, at: at.toISOString() });
  }

  private stage(event: string, data: unknown): void {
    this.list.push({
      event,
      envelope: { v: 1, id: randomUUID(), type: `${INVENTORY}.${event}`, time: new Date().toISOString(), source: INVENTORY, data },
    });
  }
}
