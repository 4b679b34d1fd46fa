import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { parseJsonInput, readInput } from './input.js';
import { watchLoop } from './watch.js';

describe('watchLoop', () => {
  it('ticks until the tick says it is done', async () => {
    let ticks = 0;
    await expect(watchLoop({ intervalMs: 1, tick: async () => ++ticks === 3 })).resolves.toBe('done');
    expect(ticks).toBe(3);
  });

  it('does not pile up abort listeners over a long watch', async () => {
    const abort = new AbortController();
    let ticks = 0;
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on('warning', onWarning);
    try {
      await watchLoop({ intervalMs: 1, tick: async () => ++ticks === 30, signal: abort.signal });
      await new Promise((r) => setImmediate(r));
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings).not.toContain('MaxListenersExceededWarning');
  });

  it('stops when aborted, without waiting out the interval', async () => {
    const abort = new AbortController();
    const started = Date.now();
    const run = watchLoop({ intervalMs: 60_000, tick: async () => false, signal: abort.signal });
    setTimeout(() => abort.abort(), 10);
    await expect(run).resolves.toBe('interrupted');
    expect(Date.now() - started).toBeLessThan(5000);
  });
});

describe('readInput', () => {
  it('reads stdin for "-" and names a missing file', async () => {
    await expect(readInput('-', Readable.from(['{"a":', '1}']))).resolves.toBe('{"a":1}');
    await expect(readInput('/no/such/file')).rejects.toThrow('cannot read /no/such/file: ENOENT');
    expect(() => parseJsonInput('{', 'body.json')).toThrow(/^body\.json is not valid JSON/);
  });
});
