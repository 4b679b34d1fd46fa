import { consumeDurable, type DurableConsumer, type MessageBus } from '#lib/messaging';
import { eventEnvelopeSchema } from '#contracts/common';
import {
  INVENTORY_EVENTS,
  nodeDecommissionedEventSchema,
  nodeOfflineEventSchema,
  nodeOnlineEventSchema,
} from '#contracts/inventory';
import { parseOrThrow } from '#contracts/common';
import type { CatalogService } from '../catalog/catalog.service.js';
import { applyNodeStatus } from '../catalog/transitions.js';
import { emptyDraft } from '../catalog/records.js';

/**
 * Follows the inventory's node events (durable consumer shared by the replicas): instances on
 * an offline node turn critical, back to their checks' verdict when it returns, and vanish with
 * a decommissioned node. NATS 2.9 consumers take one filter subject, so this one takes every
 * inventory event and ignores the kinds it does not need.
 */
export async function consumeInventoryEvents(bus: MessageBus, catalog: CatalogService): Promise<DurableConsumer> {
  return consumeDurable(bus, {
    durable: 'discovery-inventory-events',
    stream: bus.subjects.eventsStream,
    filterSubject: bus.subjects.event('inventory', '>'),
    name: 'discovery.inventory-event',
    schema: eventEnvelopeSchema,
    handler: async (event) => {
      const now = new Date().toISOString();
      switch (event.type) {
        case `inventory.${INVENTORY_EVENTS.offline}`: {
          const { nodeId } = parseOrThrow(nodeOfflineEventSchema, event.data, 'node.offline event');
          await catalog.commit({ nodeId }, (rows) => applyNodeStatus(rows, true, now));
          return;
        }
        case `inventory.${INVENTORY_EVENTS.online}`: {
          const { nodeId } = parseOrThrow(nodeOnlineEventSchema, event.data, 'node.online event');
          await catalog.commit({ nodeId }, (rows) => applyNodeStatus(rows, false, now));
          return;
        }
        case `inventory.${INVENTORY_EVENTS.decommissioned}`: {
          const { nodeId } = parseOrThrow(nodeDecommissionedEventSchema, event.data, 'node.decommissioned event');
          await catalog.commit({ nodeId }, (rows) => {
            const draft = emptyDraft();
            draft.deletes.push(...rows.filter((r) => r.nodeId === nodeId));
            return draft;
          });
          return;
        }
        default:
          return;
      }
    },
  });
}

