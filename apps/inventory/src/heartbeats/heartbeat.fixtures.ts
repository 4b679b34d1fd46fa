import type { Heartbeat } from '#contracts/inventory';
import type { HeartbeatBatch } from './heartbeat-buffer.js';

/** Test data for the heartbeat specs (not part of the build). */
export const hb = (uptimeSeconds: number, osVersion?: string): Heartbeat => ({
  v: 1,
  uptimeSeconds,
  load: [0.5, 1, 1.5],
  memory: { totalBytes: 8, availableBytes: 4 },
  disk: { totalBytes: 100, availableBytes: 50 },
  health: 'healthy',
  ...(osVersion ? { osVersion } : {}),
});

/** The batch's rows as objects, for readable assertions. */
export function rows(batch: HeartbeatBatch) {
  return batch.nodeIds.map((nodeId, i) => ({
    nodeId,
    uptime: batch.uptime[i],
    receivedAt: batch.receivedAt[i],
    count: batch.counts[i],
  }));
}
