import { describe, expect, it } from 'vitest';
import type { FleetStatus } from '#contracts/config';
import { desiredCaughtUp, renderConfigProgress } from './config-watch.js';

const fleet = (over: Partial<FleetStatus>): FleetStatus => ({
  latestRevision: 7,
  stableRevision: 7,
  canary: null,
  nodes: 10_000,
  inSync: 8_412,
  drifted: 2,
  failed: 5,
  pending: 1_585,
  silent: 0,
  reconciling: false,
  byAppliedRevision: { '7': 8_412, '6': 1_585, none: 3 },
  byDesiredRevision: { '7': 10_000 },
  ...over,
});

describe('config watch frame', () => {
  it('counts applied, failed (for the desired content) and waiting nodes against the fleet', () => {
    expect(renderConfigProgress(fleet({}), 4_200)).toEqual([
      'config revision 7 — 4s',
      '[#########################-----] 8,412/10,000 applied (84.1%)',
      'failed 3, waiting 1,585, drifted 2',
      'applied revisions: 7: 8,412, 6: 1,585, none: 3',
    ]);
  });

  it('knows when the stored desired state has not caught up with a publish (nodes still being told)', () => {
    const early = fleet({ stableRevision: 8, latestRevision: 8, inSync: 10_000, pending: 0, byDesiredRevision: { '7': 6_000, '8': 4_000 } });
    expect(desiredCaughtUp(early)).toBe(false);
    expect(renderConfigProgress(early, 100)[0]).toBe('config revision 8 — 100ms (nodes still being told)');
    expect(desiredCaughtUp(fleet({ reconciling: true }))).toBe(false);
    const canary = fleet({ canary: { revision: 8, previousRevision: 7, selector: null, percent: 5, nodes: 500, startedAt: '' }, byDesiredRevision: { '7': 9_500, '8': 500 } });
    expect(desiredCaughtUp(canary)).toBe(true);
    expect(renderConfigProgress(canary, 0)[0]).toBe('config stable 7, canary 8 on 500 node(s) — 0ms');
  });

  it('keeps silent nodes (never reported) out of failed and waiting, and names them', () => {
    const f = fleet({ nodes: 10, inSync: 7, pending: 1, silent: 2, byAppliedRevision: { '7': 7, none: 3 } });
    expect(renderConfigProgress(f, 0)[2]).toBe('failed 0, waiting 1, drifted 2, silent 2 (never reported: no config feature?)');
  });
});
