import { describe, expect, it } from 'vitest';
import { configItemSchema, type ConfigItemInput } from '#contracts/config';
import { diffConfigSets } from './diff.js';

const item = (i: ConfigItemInput) => configItemSchema.parse(i);

describe('diff between config sets', () => {
  it('reports added, removed and modified items with the fields that changed', () => {
    const before = [
      item({ scope: { kind: 'global' }, file: { path: '/etc/a', content: '1' } }),
      item({ scope: { kind: 'global' }, file: { path: '/etc/b', content: 'same' } }),
      item({ scope: { kind: 'group', group: 'web' }, file: { path: '/etc/c', content: 'gone' } }),
    ];
    const after = [
      item({ scope: { kind: 'global' }, file: { path: '/etc/a', content: '2', mode: 0o600 } }),
      item({ scope: { kind: 'global' }, file: { path: '/etc/b', content: 'same' } }),
      item({ scope: { kind: 'node', nodeId: 'n1' }, file: { path: '/etc/d', content: 'new' } }),
    ];
    const changes = diffConfigSets(before, after);
    expect(changes.map((c) => [c.path, c.change, c.fields])).toEqual([
      ['/etc/a', 'modified', ['content', 'mode']],
      ['/etc/c', 'removed', []],
      ['/etc/d', 'added', []],
    ]);
  });

  it('treats the same path at two scopes as two items', () => {
    const a = [item({ scope: { kind: 'global' }, file: { path: '/etc/a', content: '1' } })];
    const b = [...a, item({ scope: { kind: 'group', group: 'g' }, file: { path: '/etc/a', content: '1' } })];
    expect(diffConfigSets(a, b)).toHaveLength(1);
    expect(diffConfigSets(a, a)).toEqual([]);
  });
});
