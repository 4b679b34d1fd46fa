import { z } from 'zod';
import { nodeViewSchema } from './api.js';

/** Events on `<root>.events.inventory.<event>`; `data` shapes below. */
export const INVENTORY_EVENTS = {
  registered: 'node.registered',
  online: 'node.online',
  offline: 'node.offline',
  updated: 'node.updated',
  decommissioned: 'node.decommissioned',
} as const;

export const nodeRegisteredEventSchema = z.object({ node: nodeViewSchema });
export const nodeOnlineEventSchema = z.object({ nodeId: z.string(), at: z.string() });
export const nodeOfflineEventSchema = z.object({ nodeId: z.string(), lastSeenAt: z.string(), at: z.string() });
export const nodeUpdatedEventSchema = z.object({ node: nodeViewSchema, changed: z.array(z.string()) });
export const nodeDecommissionedEventSchema = z.object({ nodeId: z.string(), at: z.string() });
