import { describe, expect, it } from 'vitest';
import type { InstanceView } from '#contracts/discovery';
import { CatalogCache } from './catalog.cache.js';

const view = (id: string, modifyIndex: number, over: Partial<InstanceView> = {}): InstanceView => ({
  id,
  service: 'web',
  nodeId: 'n1',
  source: 'agent',
  address: '10.0.0.1',
  port: 80,
  tags: [],
  meta: {},
  group: 'default',
  checks: [],
  nodeOffline: false,
  health: 'passing',
  criticalSince: null,
  deregisterCriticalAfterMs: null,
  createIndex: modifyIndex,
  modifyIndex,
  registeredAt: '',
  updatedAt: '',
  ...over,
});

describe('CatalogCache', () => {
  it('applies newer changes and ignores older or repeated ones', () => {
    const c = new CatalogCache();
    expect(c.apply({ service: 'web', instanceId: 'a', index: 5, instance: view('a', 5, { health: 'critical' }) })).toBe(true);
    expect(c.apply({ service: 'web', instanceId: 'a', index: 4, instance: view('a', 4) })).toBe(false);
    expect(c.apply({ service: 'web', instanceId: 'a', index: 5, instance: view('a', 5) })).toBe(false);
    expect(c.get('a')?.health).toBe('critical');
    expect(c.serviceIndex('web')).toBe(5);
    expect(c.index).toBe(5);
  });

  it('does not resurrect a deleted instance from a late older event', () => {
    const c = new CatalogCache();
    c.apply({ service: 'web', instanceId: 'a', index: 5, instance: view('a', 5) });
    c.apply({ service: 'web', instanceId: 'a', index: 7, instance: null });
    expect(c.apply({ service: 'web', instanceId: 'a', index: 6, instance: view('a', 6) })).toBe(false);
    expect(c.instancesOf('web')).toBeUndefined();
    expect(c.serviceIndex('web')).toBe(7);
  });

  it('handles a rename (delete + re-create of one id in one transaction) in either order', () => {
    const c = new CatalogCache();
    c.apply({ service: 'web', instanceId: 'a', index: 5, instance: view('a', 5) });
    c.apply({ service: 'api', instanceId: 'a', index: 6, instance: view('a', 6, { service: 'api' }) });
    c.apply({ service: 'web', instanceId: 'a', index: 6, instance: null });
    expect(c.get('a')?.service).toBe('api');
    expect(c.instancesOf('web')).toBeUndefined();
  });

  it('summarises a service with counts by state and its tags', () => {
    const c = new CatalogCache();
    c.apply({ service: 'web', instanceId: 'a', index: 1, instance: view('a', 1, { tags: ['v2'] }) });
    c.apply({ service: 'web', instanceId: 'b', index: 2, instance: view('b', 2, { health: 'warning', tags: ['v1'] }) });
    expect(c.summary('web')).toEqual({ name: 'web', tags: ['v1', 'v2'], instances: 2, counts: { passing: 1, warning: 1, critical: 0 }, modifyIndex: 2 });
  });

  it('replaces its contents from a reload, keeping newer entries and dropping deleted ones', () => {
    const c = new CatalogCache();
    c.apply({ service: 'web', instanceId: 'gone', index: 3, instance: view('gone', 3) });
    c.apply({ service: 'web', instanceId: 'newer', index: 12, instance: view('newer', 12, { health: 'critical' }) });
    const touched = c.replace([view('newer', 9), view('fresh', 8)], new Map([['web', 9]]), 10);
    expect(c.get('gone')).toBeUndefined();
    expect(c.get('newer')?.health).toBe('critical');
    expect(c.get('fresh')).toBeDefined();
    expect([...touched]).toEqual(['web']);
  });
});
