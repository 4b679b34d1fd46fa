import { describe, expect, it } from 'vitest';
import type { InstanceView } from '#contracts/discovery';
import { diffInstances, formatChange } from './services.js';

const inst = (id: string, health: InstanceView['health'], over: Partial<InstanceView> = {}) =>
  ({ id, health, address: '10.0.0.1', port: 80, tags: [], nodeOffline: false, checks: [], ...over }) as InstanceView;

describe('services watch: changes between two answers', () => {
  it('reports added, removed and health changes with the reason', () => {
    const before = [inst('a', 'passing'), inst('b', 'passing')];
    const after = [
      inst('a', 'critical', { checks: [{ id: 'http-1', status: 'critical', output: 'HTTP 503' } as InstanceView['checks'][0]] }),
      inst('c', 'critical', { nodeOffline: true }),
    ];
    expect(diffInstances(before, after)).toEqual([
      { kind: 'changed', id: 'a', from: 'passing', to: 'critical', detail: 'http-1: HTTP 503' },
      { kind: 'added', id: 'c', to: 'critical', detail: '10.0.0.1:80 node offline' },
      { kind: 'removed', id: 'b', from: 'passing', detail: '' },
    ]);
  });

  it('says nothing when nothing a user sees changed', () => {
    expect(diffInstances([inst('a', 'passing')], [inst('a', 'passing')])).toEqual([]);
  });

  it('formats one line per change', () => {
    const at = new Date('2026-01-01T10:11:12Z');
    expect(formatChange('web', { kind: 'changed', id: 'n1:web', from: 'passing', to: 'critical', detail: 'node offline' }, at)).toBe(
      '10:11:12  web  n1:web  passing → critical  (node offline)',
    );
  });
});
