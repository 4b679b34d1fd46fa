import { z } from 'zod';

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/**
 * A recurring maintenance window: starts at `start` (local wall-clock `HH:MM` in `timeZone`) on
 * each of `days` (local weekday; empty = every day) and lasts `lengthMinutes` (it may cross
 * midnight; the day is the day it starts).
 */
export const maintenanceWindowSchema = z.object({
  days: z.array(z.enum(WEEKDAYS)).max(7).default([]),
  start: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'start: HH:MM (24h)'),
  lengthMinutes: z.number().int().min(1).max(7 * 24 * 60),
  timeZone: z.string().max(64).refine(isTimeZone, 'timeZone: an IANA time zone such as Europe/Berlin or UTC'),
});
export type MaintenanceWindow = z.output<typeof maintenanceWindowSchema>;
export type MaintenanceWindowInput = z.input<typeof maintenanceWindowSchema>;
