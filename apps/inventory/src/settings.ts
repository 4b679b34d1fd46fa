import type { InventoryEnv } from './env.js';

/** The inventory's runtime settings, derived once from the environment and injected by token. */
export interface InventorySettings {
  databaseUrl: string;
  heartbeatIntervalSeconds: number;
  offlineAfterMissed: number;
  flushMs: number;
  bufferNodes: number;
  bufferMaxNodes: number;
  leaderRetryMs: number;
  helloAgainMinIntervalMs: number;
  outboxPollMs: number;
  outboxBatchSize: number;
}

export const INVENTORY_SETTINGS = Symbol('INVENTORY_SETTINGS');

export function settingsFromEnv(env: InventoryEnv): InventorySettings {
  return {
    databaseUrl: env.DATABASE_URL,
    heartbeatIntervalSeconds: env.HEARTBEAT_INTERVAL_SECONDS,
    offlineAfterMissed: env.OFFLINE_AFTER_MISSED_HEARTBEATS,
    flushMs: env.HEARTBEAT_FLUSH_MS,
    bufferNodes: env.HEARTBEAT_BUFFER_NODES,
    bufferMaxNodes: env.HEARTBEAT_BUFFER_MAX_NODES,
    leaderRetryMs: env.LEADER_RETRY_MS,
    helloAgainMinIntervalMs: env.HELLO_AGAIN_MIN_INTERVAL_MS,
    outboxPollMs: env.OUTBOX_POLL_MS,
    outboxBatchSize: env.OUTBOX_BATCH_SIZE,
  };
}
