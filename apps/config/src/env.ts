import { z } from 'zod';
import { baseEnvSchema, durationMs, parseEnv } from '#lib/env';

const roots = z
  .string()
  .default('/etc,/opt,/srv,/var/lib,/usr/local/etc')
  .transform((s) => s.split(',').map((r) => r.trim()).filter(Boolean))
  .refine((list) => list.length > 0 && list.every((r) => r.startsWith('/')), 'comma-separated absolute directories');

export const configEnvSchema = baseEnvSchema.extend({
  /** Directories config items may live under (the agents enforce their own managedRoots too). */
  CONFIG_ALLOWED_ROOTS: roots,
  CONFIG_MAX_FILE_BYTES: z.coerce.number().int().min(1).max(16 * 1024 * 1024).default(256 * 1024),
  /** Upper bound of any node's bundle; must fit one NATS message (1 MiB by default). */
  CONFIG_MAX_BUNDLE_BYTES: z.coerce.number().int().min(1024).default(900 * 1024),
  CONFIG_MAX_ITEMS: z.coerce.number().int().min(1).default(10_000),
  /** How often the leader re-reads every node's facts from the inventory (missed events, drift of facts). */
  CONFIG_RESYNC_INTERVAL_MS: durationMs(300_000),
  /** Agent reports are written in batches: at most this long or this many per statement. */
  CONFIG_REPORT_FLUSH_MS: durationMs(20),
  CONFIG_REPORT_BATCH: z.coerce.number().int().min(1).max(10_000).default(500),
  /** Report batches written at once. */
  CONFIG_REPORT_CONCURRENCY: z.coerce.number().int().min(1).max(16).default(4),
  /** Bundles whose files' JSON is at most this big go inline in the notice (0: always fetch). */
  CONFIG_INLINE_NOTICE_BYTES: z.coerce.number().int().min(0).max(512 * 1024).default(16 * 1024),
  /** How often the leader looks for nodes whose ack has not arrived, and how long an ack may take. */
  CONFIG_NUDGE_INTERVAL_MS: durationMs(30_000),
  CONFIG_ACK_GRACE_MS: durationMs(30_000),
  /** Re-sends to one silent node back off exponentially from the grace up to this. */
  CONFIG_NUDGE_MAX_BACKOFF_MS: durationMs(3_600_000),
  LEADER_RETRY_MS: durationMs(2000),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(2).max(100).default(10),
});

export type ConfigEnv = z.output<typeof configEnvSchema>;

export function parseConfigEnv(source: NodeJS.ProcessEnv = process.env): ConfigEnv {
  return parseEnv(configEnvSchema, source);
}
