import type { MaintenanceWindow, Weekday } from '#contracts/updater';

const WEEKDAY_INDEX: Record<string, number> = { Mon: 0, Tue: 1, Wed: 2, Thu: 3, Fri: 4, Sat: 5, Sun: 6 };
const DAY_NAMES: Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      weekday: 'short',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

interface LocalTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  weekday: number;
}

function localTime(ms: number, timeZone: string): LocalTime {
  const parts: Record<string, string> = {};
  for (const p of formatter(timeZone).formatToParts(new Date(ms))) parts[p.type] = p.value;
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    second: Number(parts.second),
    weekday: WEEKDAY_INDEX[parts.weekday],
  };
}

/** Offset (ms) of the zone from UTC at instant `ms`. */
function offsetAt(ms: number, timeZone: string): number {
  const l = localTime(ms, timeZone);
  const asUtc = Date.UTC(l.year, l.month - 1, l.day, l.hour, l.minute, l.second);
  return asUtc - (ms - (ms % 1000));
}

/**
 * The instant at which the local wall clock in `timeZone` shows the given date and time. A time
 * skipped by a DST jump (02:30 on a spring-forward night) is shifted forward by the gap (03:30);
 * a repeated time (autumn) maps to its first occurrence.
 */
export function zonedInstant(year: number, month: number, day: number, hour: number, minute: number, timeZone: string): number {
  const wall = Date.UTC(year, month - 1, day, hour, minute);
  // Try the offsets in force a day around the wall time; the earliest consistent one wins.
  const candidates = [offsetAt(wall - 86_400_000, timeZone), offsetAt(wall, timeZone), offsetAt(wall + 86_400_000, timeZone)];
  const consistent = [...new Set(candidates)]
    .map((off) => wall - off)
    .filter((instant) => offsetAt(instant, timeZone) === wall - instant)
    .sort((a, b) => a - b);
  if (consistent.length > 0) return consistent[0];
  // Skipped wall time: use the offset from before the jump, which lands after the jump.
  return wall - Math.min(...candidates);
}

/** Start instants of the window's occurrences on local days from `fromMs - 8 days` to `toMs`. */
function occurrences(w: MaintenanceWindow, fromMs: number, toMs: number): number[] {
  const [hh, mm] = w.start.split(':').map(Number);
  const starts: number[] = [];
  // Walk local calendar days; 12:00 UTC steps avoid landing twice on one date.
  const first = localTime(fromMs - (w.lengthMinutes + 1440) * 60_000, w.timeZone);
  let cursor = Date.UTC(first.year, first.month - 1, first.day, 12);
  const end = toMs + 2 * 86_400_000;
  while (cursor <= end) {
    const d = new Date(cursor);
    const weekday = (d.getUTCDay() + 6) % 7; // Monday = 0
    if (w.days.length === 0 || w.days.includes(DAY_NAMES[weekday])) {
      starts.push(zonedInstant(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), hh, mm, w.timeZone));
    }
    cursor += 86_400_000;
  }
  return starts;
}

/** The occurrence of `w` in force at `atMs`, as [start, end) instants, or null. */
export function windowOccurrenceAt(w: MaintenanceWindow, atMs: number): { start: number; end: number } | null {
  for (const start of occurrences(w, atMs, atMs)) {
    const end = start + w.lengthMinutes * 60_000;
    if (start <= atMs && atMs < end) return { start, end };
  }
  return null;
}

/** True when no windows are configured (always open) or `atMs` lies in one of them. */
export function isWindowOpen(windows: readonly MaintenanceWindow[], atMs: number): boolean {
  return windows.length === 0 || windows.some((w) => windowOccurrenceAt(w, atMs) !== null);
}

/** Next instant ≥ `atMs` at which a window is open (`atMs` itself when open now), within 8 days. */
export function nextWindowOpen(windows: readonly MaintenanceWindow[], atMs: number): number | null {
  if (isWindowOpen(windows, atMs)) return atMs;
  let best: number | null = null;
  for (const w of windows) {
    for (const start of occurrences(w, atMs, atMs + 8 * 86_400_000)) {
      if (start > atMs && (best === null || start < best)) best = start;
    }
  }
  return best;
}
