import { describe, expect, it } from 'vitest';
import { renderFields, renderTable } from './table.js';

describe('renderTable', () => {
  it('aligns columns under upper-case headers, two spaces apart, without trailing spaces', () => {
    const rows = [
      { id: 'node-1', n: 5, note: 'short' },
      { id: 'n2', n: 120, note: '' },
    ];
    const out = renderTable(
      [
        { header: 'id', value: (r: (typeof rows)[number]) => r.id },
        { header: 'count', value: (r) => r.n, align: 'right' },
        { header: 'note', value: (r) => r.note },
      ],
      rows,
    );
    expect(out).toBe(['ID      COUNT  NOTE', 'node-1      5  short', 'n2        120  -', ''].join('\n'));
  });

  it('cuts long cells and flattens whitespace', () => {
    const out = renderTable([{ header: 'x', value: (r: string) => r, maxWidth: 5 }], ['abcdefgh', 'a\nb']);
    expect(out).toBe('X\nabcd…\na b\n');
  });

  it('renders aligned key: value fields', () => {
    expect(renderFields([['ID', 'n1'], ['Hostname', null]])).toBe('ID:       n1\nHostname: -\n');
  });
});
