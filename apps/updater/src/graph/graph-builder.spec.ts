import { describe, expect, it } from 'vitest';
import { GRAPH_METADATA } from '#contracts/updater';
import { buildGraph, rolloutShare, warinessOf, type GraphRelease } from './graph-builder.js';

const NOW = Date.parse('2026-11-26T00:00:00Z');
const payload = { url: 'https://example.test/os.img', sha256: 'a'.repeat(64), size: 1, signature: 'A'.repeat(86) + '==' };

function rel(version: string, extra: Partial<GraphRelease> = {}): GraphRelease {
  return {
    id: `id-${version}`,
    version,
    payload: { ...payload, sha256: version.replace(/\D/g, '').padEnd(64, '0').slice(0, 64) },
    barrier: null,
    deadEnd: null,
    rollout: { startAt: '2026-01-01T00:00:00Z', startValue: 0, durationMinutes: 0 },
    withdrawn: false,
    ...extra,
  };
}

/** Edges as "from->to" version pairs, easy to read in assertions. */
function edgesOf(releases: GraphRelease[], options: { atMs?: number; wariness?: number } = {}): string[] {
  const g = buildGraph(releases, { atMs: options.atMs ?? NOW, wariness: options.wariness });
  return g.edges.map(([f, t]) => `${g.nodes[f].version}->${g.nodes[t].version}`).sort();
}

describe('buildGraph (Cincinnati rules)', () => {
  it('connects every release to every later update target, ordered by version not by input', () => {
    expect(edgesOf([rel('1.10.0'), rel('1.2.0'), rel('1.9.0')])).toEqual(['1.2.0->1.10.0', '1.2.0->1.9.0', '1.9.0->1.10.0']);
  });

  it('makes nobody skip a barrier: releases after it are reachable only from the barrier on', () => {
    const edges = edgesOf([rel('1.0.0'), rel('1.1.0'), rel('2.0.0', { barrier: { reason: 'new disk format' } }), rel('2.1.0'), rel('2.2.0')]);
    expect(edges).toEqual([
      '1.0.0->1.1.0',
      '1.0.0->2.0.0',
      '1.1.0->2.0.0',
      '2.0.0->2.1.0',
      '2.0.0->2.2.0',
      '2.1.0->2.2.0',
    ]);
  });

  it('reaches a barrier from everything since the barrier before it', () => {
    const edges = edgesOf([
      rel('1.0.0'),
      rel('2.0.0', { barrier: { reason: 'b1' } }),
      rel('2.1.0'),
      rel('3.0.0', { barrier: { reason: 'b2' } }),
    ]);
    expect(edges).toEqual(['1.0.0->2.0.0', '2.0.0->2.1.0', '2.0.0->3.0.0', '2.1.0->3.0.0']);
  });

  it('gives dead ends no outgoing edges but keeps them as targets', () => {
    const edges = edgesOf([rel('1.0.0'), rel('1.1.0', { deadEnd: { reason: 'breaks NFS' } }), rel('1.2.0')]);
    expect(edges).toEqual(['1.0.0->1.1.0', '1.0.0->1.2.0']);
  });

  it('leaves withdrawn releases out entirely', () => {
    const g = buildGraph([rel('1.0.0'), rel('1.1.0', { withdrawn: true }), rel('1.2.0')], { atMs: NOW });
    expect(g.nodes.map((n) => n.version)).toEqual(['1.0.0', '1.2.0']);
    expect(g.edges).toEqual([[0, 1]]);
  });

  it('does not make a release without rollout metadata an update target', () => {
    expect(edgesOf([rel('1.0.0'), rel('1.1.0', { rollout: null }), rel('1.2.0')])).toEqual(['1.0.0->1.2.0', '1.1.0->1.2.0']);
  });

  it('offers a ramping target only to clients whose wariness its share has reached', () => {
    const ramp = { startAt: new Date(NOW - 30 * 60_000).toISOString(), startValue: 0, durationMinutes: 60 };
    const releases = [rel('1.0.0'), rel('1.1.0', { rollout: ramp })];
    expect(rolloutShare(ramp, NOW)).toBeCloseTo(0.5);
    expect(edgesOf(releases, { wariness: 0.2 })).toEqual(['1.0.0->1.1.0']);
    expect(edgesOf(releases, { wariness: 0.8 })).toEqual([]);
    expect(edgesOf(releases, { wariness: 0.8, atMs: NOW + 30 * 60_000 })).toEqual(['1.0.0->1.1.0']);
    // Before the start nobody is offered it, with or without wariness.
    expect(edgesOf(releases, { atMs: NOW - 3600_000 })).toEqual([]);
  });

  it('emits string metadata Zincati understands', () => {
    const g = buildGraph(
      [rel('1.0.0', { deadEnd: { reason: 'bad' } }), rel('2.0.0', { barrier: { reason: 'fs' }, rollout: { startAt: '2026-11-01T00:00:00Z', startValue: 0.1, durationMinutes: 90 } })],
      { atMs: NOW },
    );
    expect(g.nodes[0].metadata).toMatchObject({
      [GRAPH_METADATA.scheme]: 'checksum',
      [GRAPH_METADATA.ageIndex]: '0',
      [GRAPH_METADATA.deadEnd]: 'true',
      [GRAPH_METADATA.deadEndReason]: 'bad',
    });
    expect(g.nodes[1].metadata).toMatchObject({
      [GRAPH_METADATA.barrier]: 'true',
      [GRAPH_METADATA.rolloutStartEpoch]: String(Date.parse('2026-11-01T00:00:00Z') / 1000),
      [GRAPH_METADATA.rolloutStartValue]: '0.1',
      [GRAPH_METADATA.rolloutDurationMinutes]: '90',
    });
    for (const n of g.nodes) for (const v of Object.values(n.metadata)) expect(typeof v).toBe('string');
  });
});

describe('warinessOf', () => {
  it('is stable per client and spread over [0, 1)', () => {
    expect(warinessOf('abc')).toBe(warinessOf('abc'));
    const values = Array.from({ length: 1000 }, (_, i) => warinessOf(`node-${i}`));
    expect(Math.min(...values)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...values)).toBeLessThan(1);
    expect(values.filter((v) => v < 0.5).length).toBeGreaterThan(400);
  });
});
