import { describe, expect, it } from 'vitest';
import { changedFacts, sameJson, type NodeRow } from './node-view.js';

const row = (over: Partial<NodeRow> = {}): NodeRow => ({
  id: 'n1',
  hostname: 'h',
  labels: { a: '1' },
  group: 'default',
  channel: 'stable',
  arch: 'amd64',
  os_name: 'Fleet',
  os_version: '1.0.0',
  kernel: '6.6',
  booted_slot: 'a',
  agent_version: '0.1.0',
  runtimes: [{ name: 'docker', version: '24' }],
  boot_id: 'b1',
  status: 'online',
  health: 'healthy',
  uptime_seconds: 1,
  load1: 0,
  load5: 0,
  load15: 0,
  memory_total_bytes: '1',
  memory_available_bytes: '1',
  disk_total_bytes: '1',
  disk_available_bytes: '1',
  registered_at: new Date(0),
  last_seen_at: new Date(0),
  updated_at: new Date(0),
  ...over,
});

describe('changedFacts', () => {
  it('names each hello fact that changed, deep-comparing labels and runtimes', () => {
    expect(changedFacts(row(), row({ uptime_seconds: 99, last_seen_at: new Date(5) }))).toEqual([]);
    expect(
      changedFacts(row(), row({ labels: { a: '2' }, os_version: '1.1.0', boot_id: 'b2', runtimes: [{ name: 'docker', version: '25' }] })),
    ).toEqual(['labels', 'os.version', 'runtimes', 'bootId']);
  });

  it('treats key order as irrelevant', () => {
    expect(sameJson({ a: 1, b: 2 }, { b: 2, a: 1 })).toBe(true);
    expect(sameJson({ a: 1 }, { a: 1, b: undefined })).toBe(false);
    expect(sameJson([1, 2], [2, 1])).toBe(false);
  });
});
