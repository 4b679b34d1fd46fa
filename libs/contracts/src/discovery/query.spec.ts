import { describe, expect, it } from 'vitest';
import { countByState, filterInstances, type FilterableInstance } from './query.js';

const instance = (over: Partial<FilterableInstance> & { id: string }) => ({
  service: 'web',
  nodeId: 'n1',
  group: 'default',
  tags: [] as string[],
  health: 'passing' as const,
  ...over,
});

const all = [
  instance({ id: 'a', tags: ['primary', 'v2'], nodeId: 'n1', group: 'eu' }),
  instance({ id: 'b', tags: ['v2'], nodeId: 'n2', group: 'us', health: 'warning' }),
  instance({ id: 'c', tags: ['Primary'], nodeId: 'n3', health: 'critical' }),
  instance({ id: 'd', service: 'db', nodeId: null, tags: ['primary'] }),
];
const ids = (xs: { id: string }[]) => xs.map((x) => x.id);

describe('instance query filtering', () => {
  it('filters by service name', () => {
    expect(ids(filterInstances(all, { service: 'web' }))).toEqual(['a', 'b', 'c']);
    expect(ids(filterInstances(all, { service: 'nope' }))).toEqual([]);
  });

  it('requires every tag, case-insensitively', () => {
    expect(ids(filterInstances(all, { service: 'web', tags: ['primary'] }))).toEqual(['a', 'c']);
    expect(ids(filterInstances(all, { tags: ['primary', 'v2'] }))).toEqual(['a']);
  });

  it('filters by group (the datacenter) and node', () => {
    expect(ids(filterInstances(all, { group: 'eu' }))).toEqual(['a']);
    expect(ids(filterInstances(all, { nodeId: 'n2' }))).toEqual(['b']);
  });

  it('keeps only passing instances when asked', () => {
    expect(ids(filterInstances(all, { service: 'web', passingOnly: true }))).toEqual(['a']);
    expect(ids(filterInstances(all, { states: ['warning', 'critical'] }))).toEqual(['b', 'c']);
  });

  it('filters by the nodes a label selector resolved to, excluding instances off the fleet', () => {
    expect(ids(filterInstances(all, { nodes: new Set(['n2', 'n3']) }))).toEqual(['b', 'c']);
    expect(ids(filterInstances(all, { nodes: new Set() }))).toEqual([]);
  });

  it('counts instances by state', () => {
    expect(countByState(all)).toEqual({ passing: 2, warning: 1, critical: 1 });
  });
});
