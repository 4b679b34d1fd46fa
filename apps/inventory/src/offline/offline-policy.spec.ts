import { describe, expect, it } from 'vitest';
import { detectionPeriodMs, isOffline, mayJudge, offlineThresholdMs } from './offline-policy.js';

const policy = { intervalSeconds: 10, missed: 3, flushMs: 200 };

describe('offline policy', () => {
  it('marks a node offline only after three missed intervals', () => {
    expect(offlineThresholdMs(policy)).toBe(30_000);
    expect(isOffline(0, 29_999, policy)).toBe(false);
    expect(isOffline(0, 30_000, policy)).toBe(false);
    expect(isOffline(0, 30_001, policy)).toBe(true);
  });

  it('checks twice per interval, so detection lags the threshold by at most half an interval', () => {
    expect(detectionPeriodMs(policy)).toBe(5000);
    expect(detectionPeriodMs({ ...policy, intervalSeconds: 0.05 })).toBe(50);
  });

  it('does not judge until heartbeats have flowed for a whole threshold plus one flush', () => {
    expect(mayJudge(0, policy)).toBe(false);
    expect(mayJudge(30_199, policy)).toBe(false);
    expect(mayJudge(30_200, policy)).toBe(true);
  });

  it('leaves a healthy node, whose heartbeat waits one flush in the buffer, well inside the threshold', () => {
    // Last written heartbeat at t=0; the next one is received at one interval and written one flush later.
    const lastSeen = 0;
    const nextWritten = policy.intervalSeconds * 1000 + policy.flushMs;
    expect(isOffline(lastSeen, nextWritten, policy)).toBe(false);
  });
});
