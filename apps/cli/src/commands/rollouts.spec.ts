import { describe, expect, it } from 'vitest';
import { UsageError } from '../core/errors.js';
import { parseGroupSlots, parseWaves, parseWindow, renderRollout, type RolloutView } from './rollouts.js';

describe('rollouts create options', () => {
  it('parses maintenance windows with group, days, start, length and time zone', () => {
    expect(parseWindow('web=sat,sun@02:00+2h@Europe/Berlin')).toEqual({
      group: 'web',
      window: { days: ['sat', 'sun'], start: '02:00', lengthMinutes: 120, timeZone: 'Europe/Berlin' },
    });
    expect(parseWindow('daily@3:30+90m')).toEqual({ group: '*', window: { days: [], start: '03:30', lengthMinutes: 90, timeZone: 'UTC' } });
    expect(() => parseWindow('someday@02:00+1h')).toThrow(UsageError);
    expect(() => parseWindow('02:00 for an hour')).toThrow(/expected/);
  });

  it('parses waves and per-group slots', () => {
    expect(parseWaves('1,10,50,100')).toEqual([1, 10, 50, 100]);
    expect(() => parseWaves('0,100')).toThrow(UsageError);
    expect(parseGroupSlots('db=3')).toEqual(['db', 3]);
    expect(() => parseGroupSlots('db')).toThrow(UsageError);
  });
});

describe('rollouts watch view', () => {
  const rollout: RolloutView = {
    id: 'r1',
    releaseId: 'rel',
    version: '1.2.0',
    channel: 'stable',
    arch: 'x86_64',
    previousVersion: '1.1.0',
    target: { channel: 'stable', selector: null, groups: [] },
    strategy: { type: 'waves', waves: [10, 100], soakSeconds: 0 },
    rebootSlotsPerGroup: 2,
    groupSlots: {},
    failureThresholdPercent: 5,
    state: 'paused',
    reason: 'wave 2: 6% failed (threshold 5%)',
    currentWave: 1,
    waves: [
      { index: 0, percent: 10, total: 20, byState: { succeeded: 20 }, openedAt: 't', finishedAt: 't' },
      { index: 1, percent: 100, total: 180, byState: { succeeded: 80, rolled_back: 11, rebooting: 2, pending: 87 }, openedAt: 't', finishedAt: null },
    ],
    counts: { total: 200, byState: { succeeded: 100, rolled_back: 11, rebooting: 2, pending: 87 } },
    createdAt: new Date().toISOString(),
  };

  it('shows a bar per wave, counts by state in lifecycle order, and the slot holders per group', () => {
    const lines = renderRollout(rollout, [
      { group: 'web', capacity: 2, windowOpen: true, holders: [{ id: 'n1', acquiredAt: 't', expiresAt: 't' }, { id: 'n2', acquiredAt: 't', expiresAt: 't' }] },
      { group: 'db', capacity: 1, windowOpen: false, holders: [] },
    ]);
    expect(lines[0]).toContain('paused: wave 2: 6% failed');
    expect(lines[1]).toMatch(/^ {2}wave 1 +10% \[#{20}\] +20\/20 +done$/);
    expect(lines[2]).toMatch(/^> wave 2 +100% \[#+-+\] +91\/180 +open +failed 11$/);
    expect(lines[3]).toBe('nodes 200: pending 87, rebooting 2, succeeded 100, rolled_back 11');
    expect(lines.slice(4)).toEqual(['reboot slots:', '  web 2/2: n1, n2']);
  });

  it('says so when nobody holds a slot', () => {
    expect(renderRollout({ ...rollout, waves: [] }, []).at(-1)).toBe('reboot slots: none held');
  });
});
