export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  /** Growth per attempt. */
  factor?: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 500, maxMs: 30_000, factor: 2 };

/**
 * Delay before retry number `attempt` (0-based): exponential, capped, with "equal jitter" — half
 * the delay fixed, half random — so thousands of agents retrying after an outage spread out
 * instead of stampeding, yet none retries immediately.
 */
export function backoffDelay(attempt: number, options: BackoffOptions = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  const factor = options.factor ?? 2;
  const base = Math.min(options.maxMs, options.initialMs * Math.pow(factor, Math.max(0, Math.min(attempt, 64))));
  return Math.round(base / 2 + random() * (base / 2));
}
