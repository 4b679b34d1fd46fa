import type { HealthState } from './checks.js';

const RANK: Record<HealthState, number> = { passing: 0, warning: 1, critical: 2 };

/**
 * An instance's health is its worst check; critical while its node is offline; passing when it
 * has no checks at all (nothing says it is unwell, as in Consul).
 */
export function aggregateHealth(checks: readonly { status: HealthState }[], nodeOffline = false): HealthState {
  if (nodeOffline) return 'critical';
  let worst: HealthState = 'passing';
  for (const c of checks) if (RANK[c.status] > RANK[worst]) worst = c.status;
  return worst;
}

export function worseOf(a: HealthState, b: HealthState): HealthState {
  return RANK[a] >= RANK[b] ? a : b;
}
