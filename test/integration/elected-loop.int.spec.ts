import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ElectedLoop } from '#lib/persistence';
import { createTestDatabase, eventually, uniqueName } from '../support/infra.js';

/** Single-replica periodic work on a real PostgreSQL: one leader, no overlap, takeover. */
describe('ElectedLoop', () => {
  let db: { url: string; drop: () => Promise<void> };
  const loops: ElectedLoop[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterEach(async () => {
    await Promise.all(loops.splice(0).map((l) => l.stop()));
  });
  afterAll(async () => {
    await db.drop();
  });

  function loop(name: string, log: string[], who: string, passMs = 5, periodMs = 20): ElectedLoop {
    let active = 0;
    const l = new ElectedLoop({
      url: db.url,
      name,
      retryMs: 100,
      periodMs,
      onError: (err) => log.push(`${who}:error:${err.message}`),
      onLeadershipChange: (leading) => log.push(`${who}:${leading ? 'lead' : 'follow'}`),
      pass: async () => {
        if (++active > 1) log.push(`${who}:OVERLAP`);
        log.push(`${who}:pass`);
        await new Promise((r) => setTimeout(r, passMs));
        active--;
        if (log.filter((e) => e === `${who}:pass`).length === 3) throw new Error('third pass fails');
      },
    });
    loops.push(l);
    return l;
  }

  it('runs passes in exactly one of two replicas, never overlapping, through a failing pass', async () => {
    const log: string[] = [];
    const name = uniqueName('loop-');
    const a = loop(name, log, 'a');
    const b = loop(name, log, 'b');
    a.start();
    await eventually(() => a.isLeader, 5000);
    b.start();
    await eventually(() => log.filter((e) => e === 'a:pass').length >= 6, 5000);
    expect(log).toContain('a:error:third pass fails');
    expect(log.some((e) => e.startsWith('b:pass'))).toBe(false);
    expect(log.some((e) => e.endsWith('OVERLAP'))).toBe(false);
    expect(b.isLeader).toBe(false);
  });

  it('hands over to the other replica when the leader stops, after its pass in progress', async () => {
    const log: string[] = [];
    const name = uniqueName('loop-');
    const a = loop(name, log, 'a', 50);
    const b = loop(name, log, 'b');
    a.start();
    await eventually(() => log.includes('a:pass'), 5000);
    b.start();
    await a.stop();
    const aPasses = log.filter((e) => e === 'a:pass').length;
    expect(log).toContain('a:follow');
    await eventually(() => log.includes('b:pass'), 5000);
    expect(log.filter((e) => e === 'a:pass').length).toBe(aPasses);
  });

  it('runs the next pass early when woken', async () => {
    const log: string[] = [];
    const l = loop(uniqueName('loop-'), log, 'w', 1, 60_000);
    l.start();
    await eventually(() => log.includes('w:pass'), 5000);
    await new Promise((r) => setTimeout(r, 20));
    l.wake();
    await eventually(() => log.filter((e) => e === 'w:pass').length === 2, 2000);
  });

  it('keeps a wake that arrives during a pass: the next pass follows it, not a period later', async () => {
    const log: string[] = [];
    const l = loop(uniqueName('loop-'), log, 'm', 200, 60_000);
    l.start();
    await eventually(() => log.includes('m:pass'), 5000, 5);
    l.wake(); // mid-pass: the pass has already read whatever it reads
    await eventually(() => log.filter((e) => e === 'm:pass').length === 2, 2000);
  });
});
