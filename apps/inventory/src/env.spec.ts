import { describe, expect, it } from 'vitest';
import { parseInventoryEnv } from './env.js';

describe('inventory environment', () => {
  it('has defaults that run locally', () => {
    expect(parseInventoryEnv({})).toMatchObject({
      HEARTBEAT_INTERVAL_SECONDS: 10,
      HEARTBEAT_FLUSH_MS: 200,
      OFFLINE_AFTER_MISSED_HEARTBEATS: 3,
      FLEET_SUBJECT_ROOT: 'fleet',
      METRICS_PORT: 0,
      OUTBOX_POLL_MS: 1000,
      OUTBOX_BATCH_SIZE: 500,
    });
  });

  it('accepts fractional heartbeat intervals', () => {
    expect(parseInventoryEnv({ HEARTBEAT_INTERVAL_SECONDS: '0.25', HEARTBEAT_FLUSH_MS: '50' }).HEARTBEAT_INTERVAL_SECONDS).toBe(0.25);
  });

  it('lists every bad variable in one error', () => {
    expect(() => parseInventoryEnv({ HEARTBEAT_INTERVAL_SECONDS: '-1', DATABASE_POOL_SIZE: 'many' })).toThrow(
      /HEARTBEAT_INTERVAL_SECONDS[\s\S]*DATABASE_POOL_SIZE/,
    );
  });

  it('refuses a flush period longer than the heartbeat interval (healthy nodes would flap offline)', () => {
    expect(() => parseInventoryEnv({ HEARTBEAT_INTERVAL_SECONDS: '1', HEARTBEAT_FLUSH_MS: '5000' })).toThrow(
      /HEARTBEAT_FLUSH_MS.*must not exceed the heartbeat interval/,
    );
  });
});
