/** Counts of one wave's nodes that matter for the failure threshold. */
export interface WaveOutcome {
  wave: number;
  /** Nodes of the wave whose update was started (activated). */
  total: number;
  /** failed + rolled_back. */
  failed: number;
  /** Failures an operator already accepted by resuming after a pause. */
  acknowledged: number;
}

/**
 * Returns the reason to pause when a wave's failed share passes the threshold, else null.
 * Failures acknowledged at a resume do not count again, so a resumed rollout keeps going until
 * new failures pass the threshold.
 */
export function thresholdBreach(outcomes: WaveOutcome[], thresholdPercent: number): string | null {
  for (const o of outcomes) {
    const fresh = o.failed - o.acknowledged;
    if (o.total === 0 || fresh <= 0) continue;
    const percent = (fresh / o.total) * 100;
    if (percent > thresholdPercent) {
      return `wave ${o.wave + 1}: ${fresh} of ${o.total} nodes failed (${round(percent)}% > ${thresholdPercent}%)`;
    }
  }
  return null;
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
