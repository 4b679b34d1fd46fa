/**
 * When is a node offline, and when may the detector judge? Pure, so the rules are unit-tested.
 *
 * A node is offline after `missed` heartbeat intervals without one. Three delays sit between a
 * heartbeat leaving an agent and its `last_seen_at` reaching the database: the network, the
 * inventory's flush period (at most `flushMs`, ≤ one interval by configuration), and a failed
 * flush's retry. With the defaults (10 s interval, 200 ms flush, threshold 30 s) a healthy node has
 * over 19 s of slack before a false offline mark. `last_seen_at` is the time the heartbeat was
 * *received*, not flushed, so flush delay does not age it.
 */
export interface OfflinePolicy {
  intervalSeconds: number;
  missed: number;
  flushMs: number;
}

export function offlineThresholdMs(policy: OfflinePolicy): number {
  return policy.intervalSeconds * policy.missed * 1000;
}

/** The detector runs about twice per interval, so a node is flagged within 3.5 intervals at most. */
export function detectionPeriodMs(policy: OfflinePolicy): number {
  return Math.max(50, Math.round((policy.intervalSeconds * 1000) / 2));
}

export function isOffline(lastSeenAt: number, now: number, policy: OfflinePolicy): boolean {
  return now - lastSeenAt > offlineThresholdMs(policy);
}

/**
 * The detector must not judge until heartbeats have been flowing into this replica for a full
 * threshold plus a flush: after a restart of the inventory, or a NATS reconnect, every node's
 * `last_seen_at` is old simply because nobody was listening; judging at once would mark the
 * whole fleet offline and back online a moment later.
 */
export function mayJudge(heartbeatsFlowingForMs: number, policy: OfflinePolicy): boolean {
  return heartbeatsFlowingForMs >= offlineThresholdMs(policy) + policy.flushMs;
}
