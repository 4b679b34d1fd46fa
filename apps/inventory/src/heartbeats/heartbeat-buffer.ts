import type { Heartbeat } from '#contracts/inventory';

/** The latest heartbeat of one node, and how many heartbeats it stands for. */
export interface BufferedHeartbeat {
  nodeId: string;
  heartbeat: Heartbeat;
  /** When the newest of them was received (ms, local clock). */
  receivedAt: number;
  /** Heartbeats folded into this entry since the last successful write. */
  count: number;
}

export type AddResult = 'buffered' | 'coalesced' | 'dropped';

/**
 * Keeps only the newest heartbeat per node until the next flush: a node that beats five times
 * between flushes costs one row. Bounded by `maxNodes` distinct nodes; past that, heartbeats from
 * nodes not yet buffered are dropped (heartbeats are loss-tolerant; the next one will do).
 */
export class HeartbeatBuffer {
  private pending = new Map<string, BufferedHeartbeat>();

  constructor(private readonly maxNodes: number) {}

  get size(): number {
    return this.pending.size;
  }

  add(nodeId: string, heartbeat: Heartbeat, receivedAt: number): AddResult {
    const entry = this.pending.get(nodeId);
    if (entry) {
      entry.heartbeat = heartbeat;
      entry.receivedAt = receivedAt;
      entry.count++;
      return 'coalesced';
    }
    if (this.pending.size >= this.maxNodes) return 'dropped';
    this.pending.set(nodeId, { nodeId, heartbeat, receivedAt, count: 1 });
    return 'buffered';
  }

  /** Hands over everything buffered and starts a new, empty buffer. */
  take(): BufferedHeartbeat[] {
    const batch = [...this.pending.values()];
    this.pending = new Map();
    return batch;
  }

  /**
   * Puts back a batch whose write failed. A node that beat again meanwhile keeps its newer
   * heartbeat (and the older ones are counted into it); the others get their old entry back.
   * The cap is not applied here: these nodes were already admitted.
   */
  restore(batch: BufferedHeartbeat[]): void {
    for (const old of batch) {
      const newer = this.pending.get(old.nodeId);
      if (newer && newer.receivedAt >= old.receivedAt) newer.count += old.count;
      else if (newer) this.pending.set(old.nodeId, { ...old, count: old.count + newer.count });
      else this.pending.set(old.nodeId, old);
    }
  }
}
