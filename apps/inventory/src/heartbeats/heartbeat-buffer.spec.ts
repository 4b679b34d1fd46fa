import { describe, expect, it } from 'vitest';
import type { Heartbeat } from '#contracts/inventory';
import { HeartbeatBuffer } from './heartbeat-buffer.js';

const hb = (uptimeSeconds: number): Heartbeat => ({
  v: 1,
  uptimeSeconds,
  load: [0, 0, 0],
  memory: { totalBytes: 1, availableBytes: 1 },
  disk: { totalBytes: 1, availableBytes: 1 },
  health: 'healthy',
});

describe('HeartbeatBuffer', () => {
  it('keeps only the newest heartbeat per node and counts the ones it replaced', () => {
    const buffer = new HeartbeatBuffer(10);
    expect(buffer.add('a', hb(1), 1)).toBe('buffered');
    expect(buffer.add('a', hb(2), 2)).toBe('coalesced');
    expect(buffer.add('b', hb(5), 3)).toBe('buffered');
    const batch = buffer.take();
    expect(batch).toEqual([
      { nodeId: 'a', heartbeat: hb(2), receivedAt: 2, count: 2 },
      { nodeId: 'b', heartbeat: hb(5), receivedAt: 3, count: 1 },
    ]);
    expect(buffer.size).toBe(0);
  });

  it('drops heartbeats from new nodes once the cap is reached, but still coalesces known ones', () => {
    const buffer = new HeartbeatBuffer(2);
    buffer.add('a', hb(1), 1);
    buffer.add('b', hb(1), 1);
    expect(buffer.add('c', hb(1), 1)).toBe('dropped');
    expect(buffer.add('a', hb(2), 2)).toBe('coalesced');
    expect(buffer.size).toBe(2);
  });

  it('merges a failed batch back without overwriting newer heartbeats', () => {
    const buffer = new HeartbeatBuffer(10);
    buffer.add('a', hb(1), 1);
    buffer.add('b', hb(1), 1);
    const failed = buffer.take();
    buffer.add('a', hb(9), 9); // arrived while the write was failing
    buffer.restore(failed);
    const retry = buffer.take();
    expect(retry.find((e) => e.nodeId === 'a')).toEqual({ nodeId: 'a', heartbeat: hb(9), receivedAt: 9, count: 2 });
    expect(retry.find((e) => e.nodeId === 'b')).toEqual({ nodeId: 'b', heartbeat: hb(1), receivedAt: 1, count: 1 });
  });

  it('keeps the restored entry when it is the newer one', () => {
    const buffer = new HeartbeatBuffer(10);
    buffer.add('a', hb(5), 5);
    const failed = buffer.take();
    buffer.add('a', hb(3), 3); // clock went backwards, or a reordered delivery
    buffer.restore(failed);
    expect(buffer.take()).toEqual([{ nodeId: 'a', heartbeat: hb(5), receivedAt: 5, count: 2 }]);
  });
});
