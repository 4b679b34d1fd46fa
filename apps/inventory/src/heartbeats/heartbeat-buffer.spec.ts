import { describe, expect, it } from 'vitest';
import { HeartbeatBuffer } from './heartbeat-buffer.js';
import { hb, rows } from './heartbeat.fixtures.js';

describe('HeartbeatBuffer', () => {
  it('keeps only the newest heartbeat per node and counts the ones it replaced', () => {
    const buffer = new HeartbeatBuffer({ maxNodes: 10 });
    expect(buffer.add('a', hb(1), 1)).toBe('buffered');
    expect(buffer.add('a', hb(2), 2)).toBe('coalesced');
    expect(buffer.add('b', hb(5, '2.0.0'), 3)).toBe('buffered');
    const batch = buffer.take(10);
    expect(rows(batch)).toEqual([
      { nodeId: 'a', uptime: 2, receivedAt: 2, count: 2 },
      { nodeId: 'b', uptime: 5, receivedAt: 3, count: 1 },
    ]);
    expect(batch).toMatchObject({ size: 2, load1: [0.5, 0.5], load15: [1.5, 1.5], memAvail: [4, 4], diskTotal: [100, 100] });
    expect(batch.health).toEqual(['healthy', 'healthy']);
    expect(batch.osVersion).toEqual([null, '2.0.0']);
    expect(buffer.size).toBe(0);
  });

  it('starts a fresh count for a node after its heartbeat was taken', () => {
    const buffer = new HeartbeatBuffer({ maxNodes: 10 });
    buffer.add('a', hb(1), 1);
    buffer.take(2);
    expect(buffer.add('a', hb(2), 3)).toBe('buffered');
    expect(rows(buffer.take(4))).toEqual([{ nodeId: 'a', uptime: 2, receivedAt: 3, count: 1 }]);
  });

  it('drops heartbeats from new nodes once the cap is reached, but still coalesces known ones', () => {
    const buffer = new HeartbeatBuffer({ maxNodes: 2 });
    buffer.add('a', hb(1), 1);
    buffer.add('b', hb(1), 1);
    expect(buffer.add('c', hb(1), 1)).toBe('dropped');
    expect(buffer.add('a', hb(2), 2)).toBe('coalesced');
    expect(buffer.size).toBe(2);
  });

  it('frees slots of nodes gone quiet, so the cap applies to live nodes only', () => {
    const buffer = new HeartbeatBuffer({ maxNodes: 2, idleSlotMs: 1000 });
    buffer.add('a', hb(1), 0);
    buffer.add('b', hb(1), 0);
    buffer.take(10);
    expect(buffer.slotCount).toBe(2);
    buffer.take(5000); // nothing waiting, but the sweep runs
    expect(buffer.slotCount).toBe(0);
    expect(buffer.add('c', hb(1), 5001)).toBe('buffered');
  });

  it('merges a failed batch back without overwriting newer heartbeats', () => {
    const buffer = new HeartbeatBuffer({ maxNodes: 10 });
    buffer.add('a', hb(1), 1);
    buffer.add('b', hb(1), 1);
    const failed = buffer.take(2);
    buffer.add('a', hb(9), 9); // arrived while the write was failing
    buffer.restore(failed);
    const retry = rows(buffer.take(10));
    expect(retry.find((e) => e.nodeId === 'a')).toEqual({ nodeId: 'a', uptime: 9, receivedAt: 9, count: 2 });
    expect(retry.find((e) => e.nodeId === 'b')).toEqual({ nodeId: 'b', uptime: 1, receivedAt: 1, count: 1 });
    expect(retry).toHaveLength(2);
  });

  it('puts back a failed batch whose slots were freed meanwhile', () => {
    const buffer = new HeartbeatBuffer({ maxNodes: 10, idleSlotMs: 100 });
    buffer.add('a', hb(1), 0);
    const failed = buffer.take(1);
    buffer.take(1000); // sweep frees the (clean) slot of a
    expect(buffer.slotCount).toBe(0);
    buffer.restore(failed);
    expect(rows(buffer.take(1001))).toEqual([{ nodeId: 'a', uptime: 1, receivedAt: 0, count: 1 }]);
  });
});
