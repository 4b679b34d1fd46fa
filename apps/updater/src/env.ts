import { z } from 'zod';
import { baseEnvSchema, durationMs, parseEnv } from '#lib/env';

export const updaterEnvSchema = baseEnvSchema.extend({
  /** How often the elected controller advances rollouts (also woken early by reports). */
  UPDATER_TICK_MS: durationMs(1000),
  /** How often a running rollout re-resolves its target through the inventory (new nodes join). */
  UPDATER_MEMBERS_REFRESH_MS: durationMs(30_000),
  /** Reboot-slot lease when the request names none; a holder must renew or release before it ends. */
  UPDATER_LOCK_LEASE_SECONDS: z.coerce.number().int().min(5).max(86_400).default(900),
  /** Retry hint given to a node denied a busy reboot slot. */
  UPDATER_LOCK_RETRY_SECONDS: z.coerce.number().min(0.1).max(3600).default(10),
  /** Slots of a group no running rollout and no policy covers. */
  UPDATER_DEFAULT_REBOOT_SLOTS: z.coerce.number().int().min(1).max(100_000).default(1),
  /** How long a replica caches a group's effective slots and windows. */
  UPDATER_POLICY_CACHE_MS: durationMs(1000),
  /** How often the leader reaps expired reboot-slot leases. */
  UPDATER_REAP_MS: durationMs(5000),
  UPDATER_INVENTORY_TIMEOUT_MS: durationMs(15_000),
  LEADER_RETRY_MS: durationMs(2000),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(2).max(100).default(10),
});

export type UpdaterEnv = z.output<typeof updaterEnvSchema>;

export function parseUpdaterEnv(source: NodeJS.ProcessEnv = process.env): UpdaterEnv {
  return parseEnv(updaterEnvSchema, source);
}
