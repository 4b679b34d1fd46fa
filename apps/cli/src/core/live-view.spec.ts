import { describe, expect, it } from 'vitest';
import { LiveView } from './live-view.js';

function sink(isTTY: boolean) {
  const chunks: string[] = [];
  return { chunks, stream: { isTTY, columns: 20, write: (c: string) => chunks.push(c) } };
}

describe('LiveView', () => {
  it('redraws the previous frame in place on a terminal', () => {
    const { chunks, stream } = sink(true);
    const view = new LiveView(stream);
    view.render(['wave 1 [##--]', 'staged 3']);
    view.render(['wave 1 [####]', 'staged 4']);
    expect(chunks[0]).toBe('\x1b[Jwave 1 [##--]\nstaged 3\n');
    expect(chunks[1]).toBe('\x1b[2F\x1b[Jwave 1 [####]\nstaged 4\n');
  });

  it('cuts lines to the terminal width', () => {
    const { chunks, stream } = sink(true);
    new LiveView(stream).render(['x'.repeat(50)]);
    expect(chunks[0]).toBe(`\x1b[J${'x'.repeat(19)}\n`);
  });

  it('prints only changed lines, without escape codes, when not a terminal', () => {
    const { chunks, stream } = sink(false);
    const view = new LiveView(stream);
    view.render(['a 1', 'b 1']);
    view.render(['a 1', 'b 2']);
    view.render(['a 1', 'b 2']);
    expect(chunks).toEqual(['a 1\nb 1\n', 'b 2\n']);
  });
});
