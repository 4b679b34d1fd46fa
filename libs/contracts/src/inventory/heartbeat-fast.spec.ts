import { describe, expect, it } from 'vitest';
import { heartbeatSchema } from './agent-messages.js';
import { fastParseHeartbeat } from './heartbeat-fast.js';

const valid = {
  v: 1,
  uptimeSeconds: 12.5,
  load: [0.1, 0, 3],
  memory: { totalBytes: 8_000_000_000, availableBytes: 0 },
  disk: { totalBytes: 1, availableBytes: 1 },
  health: 'degraded',
};

/** Every way we could think of to get a heartbeat slightly wrong, plus some right ones. */
function variants(): unknown[] {
  const out: unknown[] = [valid, { ...valid, osVersion: '4081.2.0' }, null, 1, 'x', [], [valid]];
  const bad: unknown[] = [undefined, null, -1, 1.5, '1', Number.MAX_SAFE_INTEGER + 2, [], {}, true, 'x'.repeat(65), ''];
  for (const key of Object.keys(valid)) {
    const { [key]: _omitted, ...rest } = valid as Record<string, unknown>;
    out.push(rest);
    for (const b of bad) out.push({ ...valid, [key]: b });
  }
  for (const b of bad) {
    out.push({ ...valid, load: [b, 0, 0] }, { ...valid, load: [0, 0, b] });
    out.push({ ...valid, memory: { totalBytes: b, availableBytes: 1 } }, { ...valid, disk: { totalBytes: 1, availableBytes: b } });
    out.push({ ...valid, osVersion: b });
  }
  out.push(
    { ...valid, load: [0, 0] },
    { ...valid, load: [0, 0, 0, 0] },
    { ...valid, extra: 1 },
    { ...valid, memory: { ...valid.memory, extra: 1 } },
    { ...valid, v: 2 },
    { ...valid, health: 'great' },
    { ...valid, osVersion: 'x'.repeat(64) },
  );
  return out;
}

describe('fastParseHeartbeat', () => {
  it('accepts the common fully-formed heartbeat as is', () => {
    expect(fastParseHeartbeat(valid)).toBe(valid);
  });

  it('never accepts what heartbeatSchema rejects, and returns what the schema would', () => {
    let accepted = 0;
    for (const input of variants()) {
      const fast = fastParseHeartbeat(input);
      if (fast === undefined) continue;
      accepted++;
      const slow = heartbeatSchema.safeParse(input);
      expect(slow.success, JSON.stringify(input)).toBe(true);
      expect(fast).toEqual(slow.data);
    }
    expect(accepted).toBeGreaterThanOrEqual(3);
  });
});
