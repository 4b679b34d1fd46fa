import { describe, expect, it } from 'vitest';
import { configReportSchema } from './agent.js';
import { driftEntrySchema, driftKinds, formatMode, withDriftKinds } from './drift.js';

const a = 'a'.repeat(64);
const b = 'b'.repeat(64);

describe('drift entries', () => {
  it('still parses a drift report from an agent that compares content only', () => {
    const report = configReportSchema.parse({
      v: 1,
      kind: 'drift',
      revision: 3,
      hash: a,
      ok: true,
      drift: [
        { path: '/etc/app.conf', expected: a, found: b },
        { path: '/etc/gone.conf', expected: a, found: 'missing' },
      ],
      at: '2026-01-01T00:00:00.000Z',
    });
    expect(report.drift).toEqual([
      { path: '/etc/app.conf', expected: a, found: b },
      { path: '/etc/gone.conf', expected: a, found: 'missing' },
    ]);
    expect(report.drift.map(driftKinds)).toEqual([['content'], ['missing']]);
    expect(report.drift.map(withDriftKinds).map((d) => d.kinds)).toEqual([['content'], ['missing']]);
  });

  it('carries what differs, with modes as octal text and the owner ids compared', () => {
    const entry = {
      path: '/etc/app.conf',
      expected: a,
      found: a,
      kinds: ['mode', 'owner'],
      expectedMode: '0644',
      foundMode: '0777',
      expectedOwner: { uid: 0, gid: 0 },
      foundOwner: { uid: 1000, gid: 1000 },
    };
    expect(driftEntrySchema.parse(entry)).toEqual(entry);
    expect(driftKinds(driftEntrySchema.parse(entry))).toEqual(['mode', 'owner']);
    expect(withDriftKinds(driftEntrySchema.parse(entry))).toEqual(entry);
  });

  it('drops kinds it does not know (a newer agent) instead of failing the report', () => {
    const base = { path: '/etc/x', expected: a, found: b };
    expect(driftEntrySchema.parse({ ...base, kinds: ['xattr', 'mode'] }).kinds).toEqual(['mode']);
    const unknownOnly = driftEntrySchema.parse({ ...base, kinds: ['xattr'] });
    expect(unknownOnly.kinds).toBeUndefined();
    expect(driftKinds(unknownOnly)).toEqual(['content']);
    expect(driftEntrySchema.parse({ ...base, kinds: [] }).kinds).toBeUndefined();
  });

  it('rejects modes that are not octal and negative ids', () => {
    const base = { path: '/etc/x', expected: a, found: a };
    expect(driftEntrySchema.safeParse({ ...base, kinds: ['mode'], foundMode: '777' }).success).toBe(false);
    expect(driftEntrySchema.safeParse({ ...base, kinds: ['mode'], foundMode: '0999' }).success).toBe(false);
    expect(driftEntrySchema.safeParse({ ...base, kinds: ['owner'], foundOwner: { uid: -1 } }).success).toBe(false);
  });

  it('formats permission bits as octal text', () => {
    expect([0o644, 0o600, 0o4755, 0, 0o100644].map(formatMode)).toEqual(['0644', '0600', '04755', '0000', '0644']);
  });
});
