import { z } from 'zod';
import { channelSchema, groupSchema, labelsSchema, nodeIdSchema } from '../common/ids.js';

/**
 * Agent → inventory messages. Plain, versioned JSON (`v: 1`), documented in docs/protocol.md, so
 * an agent can be written in any language with a stock NATS client.
 */

export const runtimeSchema = z.object({
  name: z.enum(['docker', 'containerd', 'podman', 'cri-o']),
  version: z.string().max(64),
});

/** `<root>.agent.<nodeId>.hello`, request/reply: registers the node or refreshes its facts. */
export const helloSchema = z.object({
  v: z.literal(1),
  nodeId: nodeIdSchema,
  hostname: z.string().min(1).max(253),
  labels: labelsSchema.default({}),
  group: groupSchema.default('default'),
  channel: channelSchema.default('stable'),
  arch: z.string().min(1).max(32),
  os: z.object({
    name: z.string().min(1).max(64),
    version: z.string().min(1).max(64),
  }),
  kernel: z.string().max(128).default(''),
  bootedSlot: z.enum(['a', 'b']).nullable().default(null),
  agentVersion: z.string().min(1).max(64),
  runtimes: z.array(runtimeSchema).max(8).default([]),
  /** Changes at every boot; lets the inventory tell a reboot from a reconnect. */
  bootId: z.string().max(64).optional(),
});
export type Hello = z.output<typeof helloSchema>;
export type HelloInput = z.input<typeof helloSchema>;

export const helloReplySchema = z.object({
  nodeId: nodeIdSchema,
  /** True the first time the inventory sees this node. */
  registered: z.boolean(),
  heartbeatIntervalSeconds: z.number().positive(),
});
export type HelloReply = z.output<typeof helloReplySchema>;

export const healthSchema = z.enum(['healthy', 'degraded', 'unhealthy', 'unknown']);
export type Health = z.output<typeof healthSchema>;

const bytes = z.number().int().nonnegative();

/** `<root>.agent.<nodeId>.heartbeat`, publish, high rate, loss-tolerant. */
export const heartbeatSchema = z.object({
  v: z.literal(1),
  uptimeSeconds: z.number().nonnegative(),
  load: z.tuple([z.number().nonnegative(), z.number().nonnegative(), z.number().nonnegative()]),
  memory: z.object({ totalBytes: bytes, availableBytes: bytes }),
  disk: z.object({ totalBytes: bytes, availableBytes: bytes }),
  health: healthSchema.default('unknown'),
  /** The OS version currently booted; lets updates show up without a new hello. */
  osVersion: z.string().min(1).max(64).optional(),
});
export type Heartbeat = z.output<typeof heartbeatSchema>;
export type HeartbeatInput = z.input<typeof heartbeatSchema>;

/**
 * `<root>.node.<nodeId>.hello-again`, platform → agent: the inventory does not know this node
 * (it was decommissioned, or the database was reset) and asks it to send hello.
 */
export const helloAgainSchema = z.object({ v: z.literal(1), reason: z.string() });
