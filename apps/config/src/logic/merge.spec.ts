import { describe, expect, it } from 'vitest';
import { bundleHash, type ConfigItem, type ConfigItemInput, configItemSchema } from '#contracts/config';
import { CompiledConfigSet, effectiveConfig } from './merge.js';

const item = (scope: ConfigItemInput['scope'], path: string, content: string): ConfigItem =>
  configItemSchema.parse({ scope, file: { path, content } });

const web1 = { nodeId: 'web-1', group: 'web', labels: { role: 'web', zone: 'a' } };

describe('effective config merge by specificity', () => {
  const items = [
    item({ kind: 'global' }, '/etc/app.conf', 'global'),
    item({ kind: 'global' }, '/etc/motd', 'hello'),
    item({ kind: 'group', group: 'web' }, '/etc/app.conf', 'group'),
    item({ kind: 'selector', selector: 'role=web' }, '/etc/app.conf', 'selector'),
    item({ kind: 'node', nodeId: 'web-1' }, '/etc/app.conf', 'node'),
  ];

  it('lets the node scope win over selector, group and global', () => {
    const { files } = effectiveConfig(items, web1);
    expect(files.map((f) => [f.path, f.content])).toEqual([
      ['/etc/app.conf', 'node'],
      ['/etc/motd', 'hello'],
    ]);
  });

  it('lets a matching selector win over the group, and the group over global', () => {
    expect(effectiveConfig(items, { ...web1, nodeId: 'web-2' }).files[0].content).toBe('selector');
    expect(effectiveConfig(items, { nodeId: 'web-3', group: 'web', labels: {} }).files[0].content).toBe('group');
    expect(effectiveConfig(items, { nodeId: 'db-1', group: 'db', labels: {} }).files[0].content).toBe('global');
  });

  it('ignores scopes that do not match the node', () => {
    const only = [item({ kind: 'group', group: 'db' }, '/etc/db.conf', 'x'), item({ kind: 'node', nodeId: 'other' }, '/etc/n', 'y')];
    expect(effectiveConfig(only, web1).files).toEqual([]);
  });

  it('breaks ties among matching selectors by requirement count, then by selector text', () => {
    const tie = [
      item({ kind: 'selector', selector: 'zone=a' }, '/etc/x', 'zone'),
      item({ kind: 'selector', selector: 'role=web' }, '/etc/x', 'role'),
      item({ kind: 'selector', selector: 'role=web,zone=a' }, '/etc/y', 'two'),
      item({ kind: 'selector', selector: 'zone' }, '/etc/y', 'one'),
    ];
    const files = effectiveConfig(tie, web1).files;
    // "role=web" sorts before "zone=a": it wins the tie of equal size.
    expect(files.find((f) => f.path === '/etc/x')?.content).toBe('role');
    expect(files.find((f) => f.path === '/etc/y')?.content).toBe('two');
    // Insertion order does not matter.
    expect(effectiveConfig([...tie].reverse(), web1).hash).toBe(effectiveConfig(tie, web1).hash);
  });

  it('reuses one merge for nodes with the same group and matching selectors, but not across node scopes', () => {
    const set = new CompiledConfigSet(items);
    const a = set.effective({ nodeId: 'web-2', group: 'web', labels: { role: 'web' } });
    const b = set.effective({ nodeId: 'web-9', group: 'web', labels: { role: 'web', other: 'x' } });
    expect(a).toBe(b);
    expect(set.effective(web1).hash).not.toBe(a.hash);
  });

  it('hashes the effective files canonically', () => {
    const { files, hash } = effectiveConfig(items, web1);
    expect(hash).toBe(bundleHash(files));
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
  });
});
