import type { Heartbeat } from '#contracts/inventory';

/** The newest heartbeat of one node, kept as plain fields in a slot reused from flush to flush. */
interface NodeSlot {
  nodeId: string;
  uptime: number;
  load1: number;
  load5: number;
  load15: number;
  memTotal: number;
  memAvail: number;
  diskTotal: number;
  diskAvail: number;
  health: string;
  osVersion: string | null;
  /** When the newest heartbeat was received (ms, local clock). */
  receivedAt: number;
  /** Heartbeats folded into the slot since it was last taken. */
  count: number;
  dirty: boolean;
}

/** A flush's worth of heartbeats, column by column (one element per node), as SQL wants them. */
export interface HeartbeatBatch {
  size: number;
  nodeIds: string[];
  counts: number[];
  receivedAt: number[];
  uptime: number[];
  load1: number[];
  load5: number[];
  load15: number[];
  memTotal: number[];
  memAvail: number[];
  diskTotal: number[];
  diskAvail: number[];
  health: string[];
  osVersion: Array<string | null>;
  /** The slots taken, so a failed write can be put back. */
  readonly slots: NodeSlot[];
}

export type AddResult = 'buffered' | 'coalesced' | 'dropped';

export interface BufferOptions {
  /** Hard cap on nodes with a slot; past it, heartbeats from new nodes are dropped. */
  maxNodes: number;
  /** Slots idle (nothing received) this long are freed. */
  idleSlotMs?: number;
}

/**
 * Keeps only the newest heartbeat per node until the next flush: a node that beats five times
 * between flushes costs one row. Each node has one slot, updated in place, so the steady state
 * allocates nothing per heartbeat that outlives it (the parsed message dies young, which the
 * garbage collector handles cheaply), and `take()` copies the dirty slots into columns.
 * A failed write is put back by marking its slots dirty again: a slot always holds the newest
 * data, so whatever arrived meanwhile wins and nothing older is resurrected.
 */
export class HeartbeatBuffer {
  private readonly slots = new Map<string, NodeSlot>();
  private dirty: NodeSlot[] = [];
  private lastSweep = 0;
  private readonly idleSlotMs: number;

  constructor(private readonly options: BufferOptions) {
    this.idleSlotMs = options.idleSlotMs ?? 120_000;
  }

  /** Distinct nodes waiting for the next flush. */
  get size(): number {
    return this.dirty.length;
  }

  /** Nodes holding a slot (waiting or recently seen). */
  get slotCount(): number {
    return this.slots.size;
  }

  add(nodeId: string, hb: Heartbeat, receivedAt: number): AddResult {
    let slot = this.slots.get(nodeId);
    if (slot === undefined) {
      // When full, free clean slots at most once a second: a flood of new ids must not turn every
      // message into a scan of the whole map.
      if (this.slots.size >= this.options.maxNodes) {
        if (receivedAt - this.lastSweep < 1000 || !this.sweep(receivedAt, true)) return 'dropped';
      }
      slot = {
        nodeId,
        uptime: 0,
        load1: 0,
        load5: 0,
        load15: 0,
        memTotal: 0,
        memAvail: 0,
        diskTotal: 0,
        diskAvail: 0,
        health: 'unknown',
        osVersion: null,
        receivedAt,
        count: 0,
        dirty: false,
      };
      this.slots.set(nodeId, slot);
    }
    slot.uptime = hb.uptimeSeconds;
    slot.load1 = hb.load[0];
    slot.load5 = hb.load[1];
    slot.load15 = hb.load[2];
    slot.memTotal = hb.memory.totalBytes;
    slot.memAvail = hb.memory.availableBytes;
    slot.diskTotal = hb.disk.totalBytes;
    slot.diskAvail = hb.disk.availableBytes;
    slot.health = hb.health;
    slot.osVersion = hb.osVersion ?? null;
    slot.receivedAt = receivedAt;
    if (slot.dirty) {
      slot.count++;
      return 'coalesced';
    }
    slot.dirty = true;
    slot.count = 1;
    this.dirty.push(slot);
    return 'buffered';
  }

  /** Hands over everything waiting, as columns, and starts collecting anew. */
  take(now = Date.now()): HeartbeatBatch {
    const slots = this.dirty;
    this.dirty = [];
    const n = slots.length;
    const batch: HeartbeatBatch = {
      size: n,
      nodeIds: new Array(n),
      counts: new Array(n),
      receivedAt: new Array(n),
      uptime: new Array(n),
      load1: new Array(n),
      load5: new Array(n),
      load15: new Array(n),
      memTotal: new Array(n),
      memAvail: new Array(n),
      diskTotal: new Array(n),
      diskAvail: new Array(n),
      health: new Array(n),
      osVersion: new Array(n),
      slots,
    };
    for (let i = 0; i < n; i++) {
      const s = slots[i];
      batch.nodeIds[i] = s.nodeId;
      batch.counts[i] = s.count;
      batch.receivedAt[i] = s.receivedAt;
      batch.uptime[i] = s.uptime;
      batch.load1[i] = s.load1;
      batch.load5[i] = s.load5;
      batch.load15[i] = s.load15;
      batch.memTotal[i] = s.memTotal;
      batch.memAvail[i] = s.memAvail;
      batch.diskTotal[i] = s.diskTotal;
      batch.diskAvail[i] = s.diskAvail;
      batch.health[i] = s.health;
      batch.osVersion[i] = s.osVersion;
      s.dirty = false;
      s.count = 0;
    }
    if (now - this.lastSweep >= this.idleSlotMs / 4) this.sweep(now, false);
    return batch;
  }

  /** Puts back a batch whose write failed; newer heartbeats that arrived meanwhile are kept. */
  restore(batch: HeartbeatBatch): void {
    for (let i = 0; i < batch.size; i++) {
      const old = batch.slots[i];
      let slot = this.slots.get(old.nodeId);
      if (slot === undefined) {
        // Freed by a sweep while the write was failing: it comes back (it was admitted before).
        slot = old;
        this.slots.set(old.nodeId, slot);
      }
      if (slot !== old) {
        // A newer slot replaced it after a sweep; its data is newer than ours.
        if (slot.dirty) slot.count += batch.counts[i];
        continue;
      }
      if (slot.dirty) {
        slot.count += batch.counts[i];
      } else {
        slot.dirty = true;
        slot.count = batch.counts[i];
        this.dirty.push(slot);
      }
    }
  }

  /** Frees slots idle for `idleSlotMs` (or, when `urgent`, every clean slot); true if any freed. */
  private sweep(now: number, urgent: boolean): boolean {
    this.lastSweep = now;
    const before = this.slots.size;
    for (const [id, slot] of this.slots) {
      if (!slot.dirty && (urgent || now - slot.receivedAt >= this.idleSlotMs)) this.slots.delete(id);
    }
    return this.slots.size < before;
  }
}
