import type { ConfigEnv } from './env.js';
import type { ValidationLimits } from './logic/validate.js';

export interface ConfigSettings {
  databaseUrl: string;
  limits: ValidationLimits;
  resyncIntervalMs: number;
  reportFlushMs: number;
  reportBatch: number;
  reportConcurrency: number;
  leaderRetryMs: number;
  nudge: { intervalMs: number; graceMs: number; maxBackoffMs: number };
  /** Bundles up to this size (JSON of the files) travel inside the notice. */
  inlineNoticeBytes: number;
}

export const CONFIG_SETTINGS = Symbol('CONFIG_SETTINGS');

export function settingsFromEnv(env: ConfigEnv): ConfigSettings {
  return {
    databaseUrl: env.DATABASE_URL,
    limits: {
      roots: env.CONFIG_ALLOWED_ROOTS,
      maxFileBytes: env.CONFIG_MAX_FILE_BYTES,
      maxBundleBytes: env.CONFIG_MAX_BUNDLE_BYTES,
      maxItems: env.CONFIG_MAX_ITEMS,
    },
    resyncIntervalMs: env.CONFIG_RESYNC_INTERVAL_MS,
    reportFlushMs: env.CONFIG_REPORT_FLUSH_MS,
    reportBatch: env.CONFIG_REPORT_BATCH,
    reportConcurrency: env.CONFIG_REPORT_CONCURRENCY,
    leaderRetryMs: env.LEADER_RETRY_MS,
    nudge: { intervalMs: env.CONFIG_NUDGE_INTERVAL_MS, graceMs: env.CONFIG_ACK_GRACE_MS, maxBackoffMs: env.CONFIG_NUDGE_MAX_BACKOFF_MS },
    inlineNoticeBytes: env.CONFIG_INLINE_NOTICE_BYTES,
  };
}
