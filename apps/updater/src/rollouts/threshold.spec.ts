import { describe, expect, it } from 'vitest';
import { thresholdBreach } from './threshold.js';

describe('failure threshold per wave', () => {
  it('stays quiet at or below the threshold', () => {
    expect(thresholdBreach([{ wave: 0, total: 100, failed: 5, acknowledged: 0 }], 5)).toBeNull();
    expect(thresholdBreach([{ wave: 0, total: 0, failed: 0, acknowledged: 0 }], 5)).toBeNull();
  });

  it('names the wave and the figures once the failed share passes it', () => {
    expect(thresholdBreach([{ wave: 0, total: 100, failed: 1, acknowledged: 0 }, { wave: 1, total: 40, failed: 3, acknowledged: 0 }], 5)).toBe(
      'wave 2: 3 of 40 nodes failed (7.5% > 5%)',
    );
  });

  it('pauses on the first failure with a zero threshold', () => {
    expect(thresholdBreach([{ wave: 0, total: 1000, failed: 1, acknowledged: 0 }], 0)).toMatch(/wave 1: 1 of 1000/);
  });

  it('does not count again failures acknowledged by a resume', () => {
    expect(thresholdBreach([{ wave: 0, total: 20, failed: 3, acknowledged: 3 }], 5)).toBeNull();
    expect(thresholdBreach([{ wave: 0, total: 20, failed: 5, acknowledged: 3 }], 5)).toMatch(/2 of 20/);
  });
});
