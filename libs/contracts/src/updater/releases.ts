import { z } from 'zod';
import { channelSchema } from '../common/ids.js';
import { versionSchema } from './version.js';

export const archSchema = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,31}$/, 'arch: 1-32 of a-z 0-9 _ -');

/**
 * The OS image of a release. `signature` is an ed25519 signature over the RAW 32-byte SHA-256
 * digest of the payload (i.e. over `Buffer.from(sha256, 'hex')`), base64-encoded (64 bytes).
 */
export const payloadSchema = z.object({
  url: z
    .string()
    .max(2048)
    .url()
    .refine((u) => /^https?:\/\//i.test(u), 'payload url must be http(s)'),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'sha256: 64 lowercase hex digits'),
  size: z.number().int().positive(),
  signature: z.string().regex(/^[A-Za-z0-9+/]{86}==$/, 'signature: base64 of a 64-byte ed25519 signature'),
});
export type Payload = z.output<typeof payloadSchema>;

const reasonSchema = z.object({ reason: z.string().min(1).max(500) });

/**
 * Cincinnati rollout metadata: the release is an update target, offered to a growing share of
 * clients from `startAt` (share `startValue`) to all of them after `durationMinutes`.
 * A release without it (`null`) is a graph node but no update target.
 */
export const graphRolloutSchema = z.object({
  startAt: z.string().datetime({ offset: true }),
  startValue: z.number().min(0).max(1).default(0),
  durationMinutes: z.number().int().min(0).max(525_600).default(0),
});
export type GraphRollout = z.output<typeof graphRolloutSchema>;

export const createReleaseSchema = z.object({
  version: versionSchema,
  channel: channelSchema,
  arch: archSchema,
  payload: payloadSchema,
  notes: z.string().max(20_000).default(''),
  /** Every earlier release must pass through this one. */
  barrier: reasonSchema.nullable().default(null),
  /** Nodes on this release cannot update further (the gateway flags them). */
  deadEnd: reasonSchema.nullable().default(null),
  /** Omitted: an update target at once (start now, duration 0). `null`: not an update target. */
  rollout: graphRolloutSchema.nullable().optional(),
});
export type CreateRelease = z.input<typeof createReleaseSchema>;

export const releaseViewSchema = z.object({
  id: z.string().uuid(),
  version: z.string(),
  channel: z.string(),
  arch: z.string(),
  payload: payloadSchema,
  notes: z.string(),
  barrier: reasonSchema.nullable(),
  deadEnd: reasonSchema.nullable(),
  rollout: graphRolloutSchema.nullable(),
  withdrawn: z.object({ reason: z.string(), at: z.string() }).nullable(),
  createdAt: z.string(),
});
export type ReleaseView = z.output<typeof releaseViewSchema>;

export const listReleasesSchema = z.object({
  channel: channelSchema.optional(),
  arch: archSchema.optional(),
  includeWithdrawn: z.boolean().default(false),
  limit: z.number().int().min(1).max(1000).default(100),
  /** Opaque; pass `nextCursor` from the previous page. Newest versions first. */
  cursor: z.string().max(256).optional(),
});
export type ListReleases = z.input<typeof listReleasesSchema>;
export const releasePageSchema = z.object({ items: z.array(releaseViewSchema), nextCursor: z.string().nullable() });

/** By id, or by (channel, arch, version). */
export const getReleaseSchema = z.union([
  z.object({ id: z.string().uuid() }),
  z.object({ channel: channelSchema, arch: archSchema, version: versionSchema }),
]);
export type GetRelease = z.input<typeof getReleaseSchema>;

export const withdrawReleaseSchema = z.object({ id: z.string().uuid(), reason: z.string().min(1).max(500) });

/** Releases that are dead ends, so the gateway can flag nodes whose (channel, arch, os.version) match. */
export const deadEndsSchema = z.object({ channel: channelSchema.optional(), arch: archSchema.optional() });
export const deadEndsReplySchema = z.object({
  items: z.array(z.object({ channel: z.string(), arch: z.string(), version: z.string(), reason: z.string() })),
});

/** Same join, done by the updater for a batch of nodes. */
export const flagNodesSchema = z.object({
  nodes: z
    .array(z.object({ id: z.string().min(1).max(128), channel: z.string().max(64), arch: z.string().max(32), version: z.string().max(64) }))
    .max(1000),
});
export const flagNodesReplySchema = z.object({
  items: z.array(z.object({ id: z.string(), deadEnd: z.object({ reason: z.string() }).nullable() })),
});
