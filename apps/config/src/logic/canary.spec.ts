import { describe, expect, it } from 'vitest';
import { canaryBucket, inCanary, parseCanaryText } from './canary.js';

describe('canary selection', () => {
  const nodes = Array.from({ length: 2000 }, (_, i) => ({ nodeId: `node-${i}`, group: 'g', labels: { i: String(i % 2) } }));

  it('picks about the requested share of nodes, stably by node id', () => {
    const picked = nodes.filter((n) => inCanary({ percent: 5 }, n));
    expect(picked.length).toBeGreaterThan(60);
    expect(picked.length).toBeLessThan(140);
    expect(nodes.filter((n) => inCanary({ percent: 5 }, n))).toEqual(picked);
    expect(canaryBucket('node-7')).toBe(canaryBucket('node-7'));
  });

  it('only adds nodes when the percentage grows', () => {
    const five = new Set(nodes.filter((n) => inCanary({ percent: 5 }, n)).map((n) => n.nodeId));
    const ten = new Set(nodes.filter((n) => inCanary({ percent: 10 }, n)).map((n) => n.nodeId));
    for (const id of five) expect(ten.has(id)).toBe(true);
  });

  it('selects by label selector', () => {
    expect(nodes.filter((n) => inCanary({ selector: 'i=1' }, n))).toHaveLength(1000);
  });

  it('parses percent and selector forms', () => {
    expect(parseCanaryText('5%')).toEqual({ percent: 5 });
    expect(parseCanaryText(' 12.5 % ')).toEqual({ percent: 12.5 });
    expect(parseCanaryText('role=web')).toEqual({ selector: 'role=web' });
    expect(() => parseCanaryText('role in (')).toThrow(/selector/);
  });
});
