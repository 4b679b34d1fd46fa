import { describe, expect, it } from 'vitest';
import { backendMetricsPorts } from './up.js';

describe('backend metrics ports under one fleetcore up', () => {
  it('gives each backend its own port from METRICS_PORT, in service order', () => {
    expect([...backendMetricsPorts('9100', ['inventory', 'updater', 'config', 'discovery'])]).toEqual([
      ['inventory', 9100],
      ['updater', 9101],
      ['config', 9102],
      ['discovery', 9103],
    ]);
  });

  it('leaves metrics off when METRICS_PORT is unset or 0, and refuses a base with no room', () => {
    expect(backendMetricsPorts(undefined, ['inventory']).size).toBe(0);
    expect(backendMetricsPorts('0', ['inventory']).size).toBe(0);
    expect(() => backendMetricsPorts('65534', ['a', 'b', 'c'])).toThrow(/no room/);
  });
});
