import { describe, expect, it } from 'vitest';
import { NODE_UPDATE_STATES, TERMINAL_NODE_STATES } from '#contracts/updater';
import { overdueReason, type NodeClock } from './node-deadline.js';

const T0 = Date.parse('2026-03-01T00:00:00Z');
const deadlines = { progressSeconds: 600, rebootWaitSeconds: 3600 };
const node = (over: Partial<NodeClock>): NodeClock => ({ state: 'downloading', stateAt: T0, seenAt: T0, online: true, ...over });
const at = (seconds: number) => T0 + seconds * 1000;

describe('per-node deadlines', () => {
  it('fails a working state that lasts longer than the progress deadline, naming the state', () => {
    for (const state of ['pending', 'downloading', 'staged', 'rebooting', 'verifying'] as const) {
      expect(overdueReason(node({ state }), deadlines, at(600))).toBeNull();
      expect(overdueReason(node({ state }), deadlines, at(601))).toBe(`no report for 600 s in ${state}`);
    }
  });

  it('does not count slot requests as progress outside awaiting_reboot', () => {
    expect(overdueReason(node({ state: 'rebooting', seenAt: at(590) }), deadlines, at(601))).toBe('no report for 600 s in rebooting');
  });

  it('lets a node wait for a reboot slot as long as it keeps asking for one', () => {
    const waiting = node({ state: 'awaiting_reboot', seenAt: at(7 * 24 * 3600) });
    // A week in awaiting_reboot (a weekly maintenance window), last request a minute ago.
    expect(overdueReason(waiting, deadlines, at(7 * 24 * 3600 + 60))).toBeNull();
    // The progress deadline does not apply to waiting.
    expect(overdueReason(node({ state: 'awaiting_reboot' }), deadlines, at(3600))).toBeNull();
  });

  it('fails a node in awaiting_reboot after the wait deadline of silence, never early', () => {
    // Requests are written at most every 30 s here, so the last one may be 30 s newer than seenAt.
    const silent = node({ state: 'awaiting_reboot' });
    expect(overdueReason(silent, deadlines, at(3630))).toBeNull();
    expect(overdueReason(silent, deadlines, at(3631))).toBe('no report or reboot-slot request for 3600 s in awaiting_reboot');
    // Silence counts from the later of its report and its last request.
    const reported = node({ state: 'awaiting_reboot', stateAt: at(1000) });
    expect(overdueReason(reported, deadlines, at(4600))).toBeNull();
    expect(overdueReason(reported, deadlines, at(4601))).not.toBeNull();
    // A short deadline gets a proportionally finer resolution: a quarter of it.
    const short = { progressSeconds: 600, rebootWaitSeconds: 2 };
    expect(overdueReason(silent, short, at(2.5))).toBeNull();
    expect(overdueReason(silent, short, at(2.501))).toBe('no report or reboot-slot request for 2 s in awaiting_reboot');
  });

  it('never times out an offline node that has not started, but does once it has', () => {
    expect(overdueReason(node({ state: 'pending', online: false }), deadlines, at(10 * 3600))).toBeNull();
    expect(overdueReason(node({ state: 'staged', online: false }), deadlines, at(601))).toBe('no report for 600 s in staged');
    expect(overdueReason(node({ state: 'awaiting_reboot', online: false }), deadlines, at(3631))).not.toBeNull();
  });

  it('leaves terminal states alone', () => {
    for (const state of TERMINAL_NODE_STATES) expect(overdueReason(node({ state }), deadlines, at(10 ** 6))).toBeNull();
    const working = NODE_UPDATE_STATES.filter((s) => !TERMINAL_NODE_STATES.includes(s));
    for (const state of working) expect(overdueReason(node({ state }), deadlines, at(10 ** 6))).not.toBeNull();
  });
});
