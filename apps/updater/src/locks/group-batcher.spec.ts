import { describe, expect, it } from 'vitest';
import { GroupBatcher } from './group-batcher.js';

describe('GroupBatcher (group commit)', () => {
  it('sends the first request at once and the ones arriving meanwhile together, per key, in order', async () => {
    const calls: Array<[string, number[]]> = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const b = new GroupBatcher<number, number>(async (key, items) => {
      calls.push([key, items]);
      if (calls.length === 1) await gate;
      return items.map((i) => i * 10);
    });
    const first = b.run('g', 1);
    const rest = [b.run('g', 2), b.run('g', 3), b.run('other', 4)];
    release();
    await expect(Promise.all([first, ...rest])).resolves.toEqual([10, 20, 30, 40]);
    expect(calls).toEqual([
      ['g', [1]],
      ['other', [4]],
      ['g', [2, 3]],
    ]);
  });

  it('fails every request of a failed batch and keeps serving later ones', async () => {
    let fail = true;
    const b = new GroupBatcher<number, number>(async (_k, items) => {
      if (fail) throw new Error('db down');
      return items;
    });
    await expect(b.run('g', 1)).rejects.toThrow('db down');
    fail = false;
    await expect(b.run('g', 2)).resolves.toBe(2);
  });
});
