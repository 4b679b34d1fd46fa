import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
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

  /** A loop whose passes record when they started and ended. */
  function timedLoop(name: string, passMs: number, options: { periodMs: number; minGapMs?: number }) {
    const passes: Array<{ start: number; end: number }> = [];
    const log: string[] = [];
    const l = new ElectedLoop({
      url: db.url,
      name,
      retryMs: 100,
      ...options,
      onError: (err) => log.push(`error:${err.message}`),
      onLeadershipChange: (leading) => log.push(leading ? 'lead' : 'follow'),
      pass: async () => {
        const start = Date.now();
        await new Promise((r) => setTimeout(r, passMs));
        passes.push({ start, end: Date.now() });
      },
    });
    loops.push(l);
    return { l, passes, log };
  }

  it('spaces woken passes minGapMs apart however often it is woken, idle or mid-pass', async () => {
    const { l, passes } = timedLoop(uniqueName('loop-'), 50, { periodMs: 60_000, minGapMs: 200 });
    l.start();
    await eventually(() => passes.length === 1, 5000, 5);
    const until = Date.now() + 1200;
    while (Date.now() < until) {
      l.wake();
      await new Promise((r) => setTimeout(r, 10));
    }
    await new Promise((r) => setTimeout(r, 300));
    // About one pass per 250 ms (50 ms pass + 200 ms gap), each promptly after its gap.
    expect(passes.length).toBeGreaterThanOrEqual(4);
    expect(passes.length).toBeLessThanOrEqual(7);
    for (let i = 1; i < passes.length; i++) {
      const gap = passes[i].start - passes[i - 1].end;
      expect(gap).toBeGreaterThanOrEqual(195);
      expect(gap).toBeLessThan(400);
    }
  });

  it('never postpones a pass that was due sooner than a wake asks', async () => {
    const { l, passes } = timedLoop(uniqueName('loop-'), 1, { periodMs: 100 });
    l.start();
    await eventually(() => passes.length === 1, 5000, 5);
    l.wake(5000);
    await eventually(() => passes.length === 2, 1000, 5);
  });

  it('keeps running passes when it loses and regains leadership during a pass', async () => {
    const { l, passes, log } = timedLoop(uniqueName('loop-'), 1500, { periodMs: 20 });
    l.start();
    await eventually(() => l.isLeader, 5000, 5);
    // Mid-pass, the leader's session is killed; it steps down and, alone, is elected again
    // before the pass ends.
    await new Promise((r) => setTimeout(r, 100));
    const admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND pid <> pg_backend_pid()`);
    await admin.end();
    await eventually(() => log.join(',') === 'lead,follow,lead', 5000, 5);
    expect(passes.length).toBe(0);
    await eventually(() => passes.length >= 3, 5000, 5);
  });
});
