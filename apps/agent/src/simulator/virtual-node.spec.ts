import { describe, expect, it } from 'vitest';
import { simulationRandom } from './prng.js';
import { VirtualStatus, virtualHost, virtualIdentity } from './virtual-node.js';

describe('virtual nodes', () => {
  it('spread over groups, zones and roles so every combination occurs', () => {
    const combos = new Set<string>();
    const groups = new Map<string, number>();
    for (let i = 0; i < 600; i++) {
      const id = virtualIdentity(i, 4, 'stable');
      groups.set(id.group, (groups.get(id.group) ?? 0) + 1);
      combos.add(`${id.group}/${id.labels.zone}/${id.labels.role}`);
    }
    expect(Object.fromEntries(groups)).toEqual({ 'group-0': 150, 'group-1': 150, 'group-2': 150, 'group-3': 150 });
    expect(combos.size).toBe(4 * 3 * 5);
    for (const k of [3, 5, 6]) {
      const seen = new Set<string>();
      for (let i = 0; i < 15 * k; i++) {
        const id = virtualIdentity(i, k, 'stable');
        seen.add(`${id.group}/${id.labels.zone}/${id.labels.role}`);
      }
      expect(seen.size).toBe(k * 15);
    }
    expect(virtualIdentity(3, 1, 'beta')).toMatchObject({ group: 'default', channel: 'beta' });
  });

  it('have distinct boot ids and a fifth of them run aarch64', () => {
    const hosts = Array.from({ length: 100 }, (_, i) => virtualHost(`n${i}`, i, { name: 'X', version: '1' }));
    expect(new Set(hosts.map((h) => h.bootId)).size).toBe(100);
    expect(hosts.filter((h) => h.arch === 'aarch64')).toHaveLength(20);
  });

  it('report plausible status that a heartbeat accepts', () => {
    const s = new VirtualStatus('n1', 1).sample();
    expect(s.memory.availableBytes).toBeGreaterThan(0);
    expect(s.memory.availableBytes).toBeLessThan(s.memory.totalBytes);
    expect(s.load.every((l) => l >= 0)).toBe(true);
  });

  it('derive reproducible per-node randomness from the seed', () => {
    const a = simulationRandom(42, 'sim-1');
    const b = simulationRandom(42, 'sim-1');
    const c = simulationRandom(42, 'sim-2');
    const seqA = [a(), a(), a()];
    expect([b(), b(), b()]).toEqual(seqA);
    expect([c(), c(), c()]).not.toEqual(seqA);
    expect(seqA.every((x) => x >= 0 && x < 1)).toBe(true);
  });
});
