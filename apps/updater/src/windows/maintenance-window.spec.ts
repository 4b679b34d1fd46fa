import { describe, expect, it } from 'vitest';
import { maintenanceWindowSchema, type MaintenanceWindowInput } from '#contracts/updater';
import { isWindowOpen, nextWindowOpen, zonedInstant } from './maintenance-window.js';

const win = (w: MaintenanceWindowInput) => maintenanceWindowSchema.parse(w);
const at = (iso: string) => Date.parse(iso);

describe('zonedInstant', () => {
  it('converts local wall time to UTC with the offset in force that day', () => {
    expect(new Date(zonedInstant(2026, 1, 15, 2, 0, 'Europe/Berlin')).toISOString()).toBe('2026-01-15T01:00:00.000Z');
    expect(new Date(zonedInstant(2026, 7, 15, 2, 0, 'Europe/Berlin')).toISOString()).toBe('2026-07-15T00:00:00.000Z');
    expect(new Date(zonedInstant(2026, 7, 15, 2, 0, 'Asia/Kolkata')).toISOString()).toBe('2026-07-14T20:30:00.000Z');
  });

  it('shifts a wall time skipped by spring-forward past the gap', () => {
    // 2026-03-08 02:30 does not exist in New York: clocks jump 02:00 EST → 03:00 EDT.
    expect(new Date(zonedInstant(2026, 3, 8, 2, 30, 'America/New_York')).toISOString()).toBe('2026-03-08T07:30:00.000Z');
  });

  it('takes the first occurrence of a wall time repeated at fall-back', () => {
    // 2026-11-01 01:30 happens at 05:30Z (EDT) and again at 06:30Z (EST).
    expect(new Date(zonedInstant(2026, 11, 1, 1, 30, 'America/New_York')).toISOString()).toBe('2026-11-01T05:30:00.000Z');
  });
});

describe('isWindowOpen', () => {
  it('is always open without windows', () => {
    expect(isWindowOpen([], at('2026-01-01T12:00:00Z'))).toBe(true);
  });

  it('opens at the start and closes at start + length (end exclusive)', () => {
    const w = [win({ start: '02:00', lengthMinutes: 60, timeZone: 'UTC' })];
    expect(isWindowOpen(w, at('2026-05-05T01:59:59Z'))).toBe(false);
    expect(isWindowOpen(w, at('2026-05-05T02:00:00Z'))).toBe(true);
    expect(isWindowOpen(w, at('2026-05-05T02:59:59Z'))).toBe(true);
    expect(isWindowOpen(w, at('2026-05-05T03:00:00Z'))).toBe(false);
  });

  it('keeps a window that crosses midnight open into the next day, keyed on the start day', () => {
    const w = [win({ days: ['mon'], start: '23:30', lengthMinutes: 90, timeZone: 'UTC' })];
    // 2026-11-23 is a Monday.
    expect(isWindowOpen(w, at('2026-11-23T23:45:00Z'))).toBe(true);
    expect(isWindowOpen(w, at('2026-11-24T00:30:00Z'))).toBe(true); // Tuesday, still Monday's window
    expect(isWindowOpen(w, at('2026-11-24T01:00:00Z'))).toBe(false);
    expect(isWindowOpen(w, at('2026-11-24T23:45:00Z'))).toBe(false); // Tuesday's 23:30 is not a window
    expect(isWindowOpen(w, at('2026-11-22T23:45:00Z'))).toBe(false); // Sunday
  });

  it('evaluates days and hours in the window time zone, not UTC', () => {
    // Saturday 01:00 in Tokyo is Friday 16:00 UTC.
    const w = [win({ days: ['sat'], start: '00:30', lengthMinutes: 60, timeZone: 'Asia/Tokyo' })];
    expect(isWindowOpen(w, at('2026-11-27T16:00:00Z'))).toBe(true);
    expect(isWindowOpen(w, at('2026-11-28T16:00:00Z'))).toBe(false);
    // Across midnight in a negative-offset zone: Friday 22:00 Los Angeles for 4 h = Sat 06:00–10:00 UTC.
    const la = [win({ days: ['fri'], start: '22:00', lengthMinutes: 240, timeZone: 'America/Los_Angeles' })];
    expect(isWindowOpen(la, at('2026-11-28T07:30:00Z'))).toBe(true);
    expect(isWindowOpen(la, at('2026-11-28T10:00:00Z'))).toBe(false);
  });

  it('follows daylight saving time: the same local window moves in UTC', () => {
    const w = [win({ start: '03:00', lengthMinutes: 60, timeZone: 'Europe/Berlin' })];
    expect(isWindowOpen(w, at('2026-01-10T02:30:00Z'))).toBe(true); // CET: 03:30 local
    expect(isWindowOpen(w, at('2026-07-10T02:30:00Z'))).toBe(false); // CEST: 04:30 local
    expect(isWindowOpen(w, at('2026-07-10T01:30:00Z'))).toBe(true);
  });

  it('measures the length in real minutes across a DST change', () => {
    // 2026-03-29 Berlin: 02:00 → 03:00. A window 01:00 + 120 min ends at 04:00 local (02:00Z).
    const w = [win({ start: '01:00', lengthMinutes: 120, timeZone: 'Europe/Berlin' })];
    expect(isWindowOpen(w, at('2026-03-29T01:59:00Z'))).toBe(true);
    expect(isWindowOpen(w, at('2026-03-29T02:00:00Z'))).toBe(false);
  });
});

describe('nextWindowOpen', () => {
  it('returns now when open and the next start otherwise', () => {
    const w = [win({ days: ['sun'], start: '04:00', lengthMinutes: 30, timeZone: 'UTC' })];
    const now = at('2026-11-25T12:00:00Z'); // Wednesday
    expect(new Date(nextWindowOpen(w, now)!).toISOString()).toBe('2026-11-29T04:00:00.000Z');
    expect(nextWindowOpen(w, at('2026-11-29T04:10:00Z'))).toBe(at('2026-11-29T04:10:00Z'));
  });

  it('picks the earliest of several windows', () => {
    const w = [
      win({ start: '22:00', lengthMinutes: 30, timeZone: 'UTC' }),
      win({ start: '09:00', lengthMinutes: 30, timeZone: 'Europe/Berlin' }),
    ];
    expect(new Date(nextWindowOpen(w, at('2026-11-25T07:00:00Z'))!).toISOString()).toBe('2026-11-25T08:00:00.000Z');
  });
});
