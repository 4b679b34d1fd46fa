import { describe, expect, it } from 'vitest';
import { NODE_UPDATE_STATES } from '#contracts/updater';
import { applyTransition, canTransition, type NodeProgress } from './node-state-machine.js';

const start: NodeProgress = { state: 'pending', stateAt: '2026-01-01T00:00:00Z', code: null, message: null, transitions: [] };

describe('per-node update state machine', () => {
  it('walks the happy path, timestamping each transition', () => {
    let n: NodeProgress | null = start;
    const path = ['downloading', 'staged', 'awaiting_reboot', 'rebooting', 'verifying', 'succeeded'] as const;
    path.forEach((state, i) => {
      n = applyTransition(n!, { state, at: `2026-01-01T00:00:0${i}Z` });
      expect(n).not.toBeNull();
    });
    expect(n!.state).toBe('succeeded');
    expect(n!.transitions.map((t) => [t.state, t.at])).toEqual(path.map((s, i) => [s, `2026-01-01T00:00:0${i}Z`]));
  });

  it('lets an agent skip steps forward but never go back', () => {
    expect(canTransition('pending', 'staged')).toBe(true);
    expect(canTransition('staged', 'downloading')).toBe(false);
    expect(canTransition('verifying', 'rebooting')).toBe(false);
    expect(canTransition('staged', 'staged')).toBe(false);
  });

  it('treats succeeded, failed and rolled_back as final', () => {
    for (const from of ['succeeded', 'failed', 'rolled_back'] as const) {
      for (const to of NODE_UPDATE_STATES) expect(canTransition(from, to)).toBe(false);
    }
  });

  it('allows failed from any open state, rolled_back only once the new slot was written', () => {
    for (const from of ['pending', 'downloading', 'staged', 'awaiting_reboot', 'rebooting', 'verifying'] as const) {
      expect(canTransition(from, 'failed')).toBe(true);
    }
    expect(canTransition('pending', 'rolled_back')).toBe(false);
    expect(canTransition('downloading', 'rolled_back')).toBe(false);
    expect(canTransition('verifying', 'rolled_back')).toBe(true);
  });

  it('keeps the failure code and message of the transition', () => {
    const n = applyTransition(start, { state: 'failed', at: '2026-01-01T00:00:00Z', code: 'checksum_mismatch', message: 'sha256 differs' });
    expect(n).toMatchObject({ state: 'failed', code: 'checksum_mismatch', message: 'sha256 differs' });
    expect(applyTransition(n!, { state: 'succeeded', at: '2026-01-01T00:00:01Z' })).toBeNull();
  });
});
