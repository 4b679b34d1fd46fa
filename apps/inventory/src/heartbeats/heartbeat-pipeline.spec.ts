import { describe, expect, it } from 'vitest';
import type { HeartbeatBatch } from './heartbeat-buffer.js';
import { HeartbeatPipeline } from './heartbeat-pipeline.js';
import { hb, rows } from './heartbeat.fixtures.js';

/** A writer that records batches and lets the test decide when each write finishes. */
function controlledWriter() {
  const batches: HeartbeatBatch[] = [];
  const pending: Array<{ resolve: () => void }> = [];
  let active = 0;
  let maxActive = 0;
  const write = (batch: HeartbeatBatch) =>
    new Promise<void>((resolve) => {
      batches.push(batch);
      active++;
      maxActive = Math.max(maxActive, active);
      pending.push({
        resolve: () => {
          active--;
          resolve();
        },
      });
    });
  return { write, batches, pending, maxActive: () => maxActive };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('HeartbeatPipeline', () => {
  it('writes many heartbeats for few nodes as one batch per flush', async () => {
    const batches: HeartbeatBatch[] = [];
    const pipeline = new HeartbeatPipeline({ flushMs: 1000, flushAtNodes: 100, maxNodes: 1000, write: async (b) => void batches.push(b) });
    for (let i = 0; i < 500; i++) pipeline.add(`n${i % 50}`, hb(i));
    await pipeline.flush();
    expect(batches).toHaveLength(1);
    expect(batches[0].size).toBe(50);
    expect(rows(batches[0]).find((e) => e.nodeId === 'n7')?.uptime).toBe(457);
    expect(pipeline.stats).toMatchObject({ received: 500, coalesced: 450, flushes: 1, rowsFlushed: 50, heartbeatsFlushed: 500 });
  });

  it('counts what the writer reports as really written', async () => {
    const pipeline = new HeartbeatPipeline({
      flushMs: 1000,
      flushAtNodes: 100,
      maxNodes: 1000,
      write: async () => ({ rows: 1, heartbeats: 3 }),
    });
    for (let i = 0; i < 5; i++) pipeline.add(i < 3 ? 'known' : `unknown${i}`, hb(i));
    await pipeline.flush();
    expect(pipeline.stats).toMatchObject({ rowsFlushed: 1, heartbeatsFlushed: 3 });
  });

  it('never runs two flushes at once; a flush requested meanwhile runs right after', async () => {
    const w = controlledWriter();
    const pipeline = new HeartbeatPipeline({ flushMs: 1000, flushAtNodes: 1000, maxNodes: 1000, write: w.write });
    pipeline.add('a', hb(1));
    const first = pipeline.flush();
    pipeline.add('b', hb(1));
    const second = pipeline.flush();
    await tick();
    expect(w.batches).toHaveLength(1);
    w.pending[0].resolve();
    await tick();
    expect(w.batches).toHaveLength(2);
    expect(w.batches[1].nodeIds).toEqual(['b']);
    w.pending[1].resolve();
    await Promise.all([first, second]);
    expect(w.maxActive()).toBe(1);
  });

  it('starts a flush early when the buffer reaches its size limit', async () => {
    const w = controlledWriter();
    const pipeline = new HeartbeatPipeline({ flushMs: 60_000, flushAtNodes: 3, maxNodes: 1000, write: w.write });
    pipeline.start();
    pipeline.add('a', hb(1));
    pipeline.add('b', hb(1));
    expect(w.batches).toHaveLength(0);
    pipeline.add('c', hb(1));
    await tick();
    expect(w.batches).toHaveLength(1);
    w.pending[0].resolve();
    await pipeline.stop();
  });

  it('merges a failed batch back and writes the newest data on retry', async () => {
    let fail = true;
    const written: HeartbeatBatch[] = [];
    const errors: string[] = [];
    const pipeline = new HeartbeatPipeline({
      flushMs: 1000,
      flushAtNodes: 1000,
      maxNodes: 1000,
      write: async (batch) => {
        if (fail) throw new Error('database is down');
        written.push(batch);
      },
      onFlushError: (err) => errors.push(err.message),
    });
    pipeline.add('a', hb(1));
    pipeline.add('b', hb(1));
    await pipeline.flush();
    expect(errors).toEqual(['database is down']);
    expect(pipeline.buffered).toBe(2);
    pipeline.add('a', hb(2));
    fail = false;
    await pipeline.flush();
    expect(written).toHaveLength(1);
    expect(rows(written[0]).find((e) => e.nodeId === 'a')).toMatchObject({ uptime: 2, count: 2 });
    expect(pipeline.stats).toMatchObject({ failedFlushes: 1, flushes: 1, rowsFlushed: 2, heartbeatsFlushed: 3 });
  });

  it('flushes on its timer', async () => {
    const batches: HeartbeatBatch[] = [];
    const pipeline = new HeartbeatPipeline({ flushMs: 10, flushAtNodes: 1000, maxNodes: 1000, write: async (b) => void batches.push(b) });
    pipeline.start();
    pipeline.add('a', hb(1));
    await new Promise((r) => setTimeout(r, 100));
    expect(batches).toHaveLength(1);
    await pipeline.stop();
  });
});
