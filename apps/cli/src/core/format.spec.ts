import { describe, expect, it } from 'vitest';
import { formatAge, formatBytes, formatDuration, parseDuration, progressBar } from './format.js';

describe('formatting', () => {
  it('formats durations with at most two units', () => {
    expect(formatDuration(250)).toBe('250ms');
    expect(formatDuration(95_000)).toBe('1m35s');
    expect(formatDuration(3_600_000 + 5000)).toBe('1h');
    expect(formatDuration(2 * 86_400_000 + 3 * 3_600_000 + 1000)).toBe('2d3h');
  });

  it('parses durations', () => {
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('2d')).toBe(172_800_000);
    expect(parseDuration('15')).toBe(15_000);
    expect(parseDuration('250ms')).toBe(250);
    expect(() => parseDuration('5 minutes')).toThrow(/cannot read/);
    expect(() => parseDuration('')).toThrow(/cannot read/);
  });

  it('formats sizes in binary units', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(8 * 1024 ** 3)).toBe('8.0 GiB');
    expect(formatBytes(200 * 1024 ** 2)).toBe('200 MiB');
    expect(formatBytes(null)).toBe('-');
  });

  it('formats ages and progress bars', () => {
    const now = Date.parse('2026-01-01T00:10:00Z');
    expect(formatAge('2026-01-01T00:08:30.500Z', now)).toBe('1m29s');
    expect(formatAge('2026-01-01T00:10:00Z', now)).toBe('0s');
    expect(formatAge(null, now)).toBe('-');
    expect(progressBar(0.5, 10)).toBe('[#####-----]');
    expect(progressBar(2, 4)).toBe('[####]');
  });
});
