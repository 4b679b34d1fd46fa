import { createHash } from 'node:crypto';

export const BUCKETS = 10_000;

/**
 * Stable bucket 0..9999 of a node: the first 4 bytes of sha256(node id). The same node always
 * lands in the same bucket, so waves never shuffle and every rollout's early waves pick the same
 * (canary) machines.
 */
export function bucketOf(nodeId: string): number {
  return createHash('sha256').update(nodeId).digest().readUInt32BE(0) % BUCKETS;
}

/** Index of the first wave whose cumulative percentage covers the bucket. */
export function waveOf(bucket: number, waves: number[]): number {
  for (let i = 0; i < waves.length; i++) {
    if (bucket < Math.round(waves[i] * (BUCKETS / 100))) return i;
  }
  return waves.length - 1;
}

/** Highest bucket (exclusive) a cumulative percentage admits. */
export function bucketLimit(percent: number): number {
  return Math.round(Math.max(0, Math.min(100, percent)) * (BUCKETS / 100));
}

/** Share (0..1) of a time-linear ramp at `atMs`. */
export function linearFraction(startMs: number, durationSeconds: number, atMs: number): number {
  if (atMs < startMs) return 0;
  if (durationSeconds <= 0) return 1;
  return Math.min(1, (atMs - startMs) / (durationSeconds * 1000));
}
