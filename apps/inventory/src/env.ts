import { z } from 'zod';
import { baseEnvSchema, durationMs, parseEnv } from '#lib/env';

export const inventoryEnvSchema = baseEnvSchema
  .extend({
    /** Told to agents in the hello reply. Fractions are allowed (tests use sub-second intervals). */
    HEARTBEAT_INTERVAL_SECONDS: z.coerce.number().positive().max(3600).default(10),
    /** A node is offline after this many intervals without a heartbeat. */
    OFFLINE_AFTER_MISSED_HEARTBEATS: z.coerce.number().int().min(2).max(100).default(3),
    /** Buffered heartbeats are written at least this often (one statement per flush). */
    HEARTBEAT_FLUSH_MS: durationMs(200),
    /** Distinct nodes buffered before a flush is started early. */
    HEARTBEAT_BUFFER_NODES: z.coerce.number().int().min(1).max(1_000_000).default(5000),
    /** Hard cap on distinct buffered nodes (e.g. during a database outage); beyond it new ones are dropped. */
    HEARTBEAT_BUFFER_MAX_NODES: z.coerce.number().int().min(1).max(10_000_000).default(250_000),
    /** How often a follower replica tries to take over offline detection. */
    LEADER_RETRY_MS: durationMs(2000),
    /** At most one hello-again notice per unknown node per this period. */
    HELLO_AGAIN_MIN_INTERVAL_MS: durationMs(30_000),
    DATABASE_POOL_SIZE: z.coerce.number().int().min(2).max(100).default(10),
    /** The outbox relay's safety-net poll; commits wake it at once. */
    OUTBOX_POLL_MS: durationMs(1000),
    /** Events the relay reads, publishes (pipelined) and deletes per round. */
    OUTBOX_BATCH_SIZE: z.coerce.number().int().min(1).max(10_000).default(500),
  })
  .superRefine((env, ctx) => {
    // A heartbeat waits in the buffer up to one flush period before its last_seen_at is written;
    // that delay must stay far below the offline threshold or healthy nodes would flap offline.
    if (env.HEARTBEAT_FLUSH_MS > env.HEARTBEAT_INTERVAL_SECONDS * 1000) {
      ctx.addIssue({
        code: 'custom',
        path: ['HEARTBEAT_FLUSH_MS'],
        message: `must not exceed the heartbeat interval (${env.HEARTBEAT_INTERVAL_SECONDS * 1000} ms)`,
      });
    }
  });

export type InventoryEnv = z.output<typeof inventoryEnvSchema>;

export function parseInventoryEnv(source: NodeJS.ProcessEnv = process.env): InventoryEnv {
  return parseEnv(inventoryEnvSchema, source);
}
