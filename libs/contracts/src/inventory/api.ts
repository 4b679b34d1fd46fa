import { z } from 'zod';
import { channelSchema, groupSchema, labelsSchema, nodeIdSchema } from '../common/ids.js';
import { healthSchema, runtimeSchema } from './agent-messages.js';

/** Request/reply API of the inventory service: `<root>.svc.inventory.<verb>`. */
export const INVENTORY = 'inventory';
export const inventoryVerbs = {
  list: 'list',
  get: 'get',
  update: 'update',
  decommission: 'decommission',
  summary: 'summary',
  /** Bulk lookup used by other services: the nodes matching a target. */
  match: 'match',
  /** Ingestion counters of the replica that answers (operations, benchmarks). */
  stats: 'stats',
} as const;

export const nodeStatusSchema = z.enum(['online', 'offline']);
export type NodeStatus = z.output<typeof nodeStatusSchema>;

export const nodeViewSchema = z.object({
  id: nodeIdSchema,
  hostname: z.string(),
  labels: z.record(z.string(), z.string()),
  group: z.string(),
  channel: z.string(),
  arch: z.string(),
  os: z.object({ name: z.string(), version: z.string() }),
  kernel: z.string(),
  bootedSlot: z.enum(['a', 'b']).nullable(),
  agentVersion: z.string(),
  runtimes: z.array(runtimeSchema),
  status: nodeStatusSchema,
  health: healthSchema,
  uptimeSeconds: z.number().nullable(),
  load: z.tuple([z.number(), z.number(), z.number()]).nullable(),
  memory: z.object({ totalBytes: z.number(), availableBytes: z.number() }).nullable(),
  disk: z.object({ totalBytes: z.number(), availableBytes: z.number() }).nullable(),
  registeredAt: z.string(),
  lastSeenAt: z.string(),
  updatedAt: z.string(),
});
export type NodeView = z.output<typeof nodeViewSchema>;

export const listNodesSchema = z.object({
  selector: z.string().max(4096).optional(),
  status: nodeStatusSchema.optional(),
  group: groupSchema.optional(),
  channel: channelSchema.optional(),
  version: z.string().max(64).optional(),
  limit: z.number().int().min(1).max(1000).default(100),
  /** Opaque; pass `nextCursor` from the previous page. Pages are ordered by node id. */
  cursor: z.string().max(256).optional(),
});
export type ListNodesQuery = z.input<typeof listNodesSchema>;

export const nodePageSchema = z.object({
  items: z.array(nodeViewSchema),
  total: z.number().int(),
  nextCursor: z.string().nullable(),
});
export type NodePage = z.output<typeof nodePageSchema>;

export const getNodeSchema = z.object({ id: nodeIdSchema });

export const updateNodeSchema = z.object({
  id: nodeIdSchema,
  /** Labels to set (added or overwritten). */
  setLabels: labelsSchema.optional(),
  /** Label keys to remove. */
  removeLabels: z.array(z.string().max(253)).max(64).optional(),
  group: groupSchema.optional(),
});
export type UpdateNode = z.input<typeof updateNodeSchema>;

export const fleetSummarySchema = z.object({
  total: z.number().int(),
  byStatus: z.record(z.string(), z.number().int()),
  byHealth: z.record(z.string(), z.number().int()),
  byOsVersion: z.record(z.string(), z.number().int()),
  byChannel: z.record(z.string(), z.number().int()),
  byGroup: z.record(z.string(), z.number().int()),
});
export type FleetSummary = z.output<typeof fleetSummarySchema>;

/** Which nodes does a target select? Used by the updater, config and discovery services. */
export const matchNodesSchema = z.object({
  selector: z.string().max(4096).optional(),
  groups: z.array(groupSchema).max(256).optional(),
  channel: channelSchema.optional(),
  arch: z.string().max(32).optional(),
  /**
   * Optional paging for very large fleets. Without `limit` every match comes back in one reply,
   * or `payload_too_large` when that reply would not fit in a NATS message: then page with
   * `limit` and pass `nextCursor` back as `cursor`.
   */
  limit: z.number().int().min(1).max(10_000).optional(),
  cursor: z.string().max(256).optional(),
});
export type MatchNodes = z.input<typeof matchNodesSchema>;
export const matchNodesReplySchema = z.object({
  nodes: z.array(z.object({ id: nodeIdSchema, group: z.string(), labels: z.record(z.string(), z.string()), status: nodeStatusSchema })),
  /** Set when `limit` cut the answer short; null or absent when this is the last page. */
  nextCursor: z.string().nullable().optional(),
});
export type MatchNodesReply = z.output<typeof matchNodesReplySchema>;

/** Reply of `stats`: counters since start of the replica that answered. */
export const inventoryStatsSchema = z.object({
  replica: z.string(),
  heartbeats: z.object({
    /** Valid heartbeats taken in (buffered or coalesced). */
    received: z.number().int(),
    coalesced: z.number().int(),
    dropped: z.number().int(),
    /** Distinct nodes waiting for the next flush. */
    buffered: z.number().int(),
    flushes: z.number().int(),
    failedFlushes: z.number().int(),
    /** Node rows written by flushes. */
    rowsFlushed: z.number().int(),
    /** Heartbeats of known nodes accounted for by successful flushes (coalesced ones included). */
    heartbeatsFlushed: z.number().int(),
  }),
  offlineDetection: z.object({ leader: z.boolean(), passes: z.number().int() }),
});
export type InventoryStats = z.output<typeof inventoryStatsSchema>;
