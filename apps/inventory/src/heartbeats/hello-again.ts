/**
 * Per-node rate limit for hello-again notices: an unknown node heartbeating every few seconds
 * gets one notice per `minIntervalMs`, not one per heartbeat. Memory is bounded by sweeping
 * expired entries whenever the map grows past `sweepAt`.
 */
export class HelloAgainLimiter {
  private readonly lastSent = new Map<string, number>();

  constructor(
    private readonly minIntervalMs: number,
    private readonly sweepAt = 10_000,
  ) {}

  /** True when a notice may be sent to `nodeId` now (and records it). */
  allow(nodeId: string, now: number): boolean {
    const last = this.lastSent.get(nodeId);
    if (last !== undefined && now - last < this.minIntervalMs) return false;
    if (this.lastSent.size >= this.sweepAt) this.sweep(now);
    this.lastSent.set(nodeId, now);
    return true;
  }

  /** Forget a node (it said hello), so a later decommission re-notifies it at once. */
  forget(nodeId: string): void {
    this.lastSent.delete(nodeId);
  }

  get size(): number {
    return this.lastSent.size;
  }

  private sweep(now: number): void {
    for (const [id, at] of this.lastSent) if (now - at >= this.minIntervalMs) this.lastSent.delete(id);
  }
}
