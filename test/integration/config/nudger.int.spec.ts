import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configVerbs as v, type Bundle, type ConfigNotice, type FleetStatus } from '#contracts/config';
import { eventually } from '../../support/infra.js';
import { ConfigHarness, hello } from './support.js';

const author = 'alice';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Notices re-sent by the nudger carry no files; the publish's own notices carry them inline. */
const nudges = (seen: ConfigNotice[]) => seen.filter((n) => n.files === undefined);

describe('config nudger: nodes whose ack did not arrive are asked again', () => {
  const h = new ConfigHarness({ CONFIG_NUDGE_INTERVAL_MS: '100', CONFIG_ACK_GRACE_MS: '400', CONFIG_NUDGE_MAX_BACKOFF_MS: '60000', LEADER_RETRY_MS: '200' });
  let seen: Record<'acked' | 'failed' | 'silent', ConfigNotice[]>;

  beforeAll(async () => {
    await h.setUp();
    for (const id of ['acked', 'failed', 'silent']) await h.sayHello(hello(id));
    await eventually(async () => (await h.sql<{ n: number }>('SELECT count(*)::int AS n FROM config.nodes'))[0].n === 3);
    seen = { acked: h.notices('acked'), failed: h.notices('failed'), silent: h.notices('silent') };
    await h.call(v.draftSet, { scope: { kind: 'global' }, file: { path: '/etc/app.conf', content: 'one\n' }, author });
    await h.call(v.publish, { author, message: 'one' });
    await eventually(() => Object.values(seen).every((s) => s.some((n) => n.revision === 1)));
  });
  afterAll(async () => {
    await h.tearDown();
  });

  it('re-sends the desired state to a silent node with growing gaps, never to nodes that answered', async () => {
    const b: Bundle = await h.bundle('acked');
    const at = new Date().toISOString();
    await h.report('acked', { v: 1, kind: 'apply', revision: b.revision, hash: b.hash, ok: true, files: [], at });
    await h.report('failed', { v: 1, kind: 'apply', revision: b.revision, hash: b.hash, ok: false, files: [{ path: '/etc/app.conf', result: 'check_failed' }], at });
    await eventually(async () => (await h.sql<{ n: number }>('SELECT count(*)::int AS n FROM config.node_reports'))[0].n === 2);

    const first = await eventually(() => nudges(seen.silent)[0], 5000);
    expect(first).toEqual({ v: 1, revision: b.revision, hash: b.hash });
    // Grace 400 ms, then backoff 400, 800, 1600 ms...: about 3 nudges in 2.5 s, not one per 100 ms pass.
    await sleep(2500);
    const count = nudges(seen.silent).length;
    expect(count).toBeGreaterThanOrEqual(2);
    expect(count).toBeLessThanOrEqual(4);
    const [row] = await h.sql<{ nudges: number }>(`SELECT nudges FROM config.nodes WHERE node_id = 'silent'`);
    expect(row.nudges).toBe(count);
    expect(nudges(seen.acked)).toEqual([]);
    expect(nudges(seen.failed)).toEqual([]);
  });

  it('stops once the node acknowledges, and a new desired state resets the backoff', async () => {
    const b: Bundle = await h.bundle('silent');
    await h.report('silent', { v: 1, kind: 'apply', revision: b.revision, hash: b.hash, ok: true, files: [], at: new Date().toISOString() });
    await eventually(async () => (await h.sql(`SELECT 1 FROM config.node_reports WHERE node_id = 'silent' AND applied_revision = $1`, [b.revision])).length === 1);
    const before = nudges(seen.silent).length;
    await sleep(1500);
    expect(nudges(seen.silent).length).toBe(before);

    await h.call(v.draftSet, { scope: { kind: 'global' }, file: { path: '/etc/app.conf', content: 'two\n' }, author });
    await h.call(v.publish, { author, message: 'two' });
    await eventually(async () => (await h.sql<{ nudges: number; nudged_at: Date | null }>(`SELECT nudges, nudged_at FROM config.nodes WHERE node_id = 'silent' AND desired_revision = 2`))[0]);
    const [row] = await h.sql<{ nudges: number; nudged_at: Date | null }>(`SELECT nudges, nudged_at FROM config.nodes WHERE node_id = 'silent'`);
    expect(row.nudges).toBeLessThanOrEqual(1); // reset by the publish (a nudge may already have followed)
  });

  it('holds nudges while a deployment change is still being written, and recomputes a deployment left behind', async () => {
    // A publish caught between its generation bump and the end of its row rewrite.
    await h.sql(`UPDATE config.deployment SET generation = reconciled_generation + 1, generation_at = now()`);
    expect((await h.call<FleetStatus>(v.status, {})).reconciling).toBe(true);
    await h.sql(`UPDATE config.nodes SET desired_at = now() - interval '1 hour', nudged_at = NULL, nudges = 0 WHERE node_id = 'silent'`);
    await h.sql(`DELETE FROM config.node_reports WHERE node_id = 'silent'`);
    const before = nudges(seen.silent).length;
    await sleep(1000);
    expect(nudges(seen.silent).length).toBe(before);

    // The replica doing it died: after a while the elected nudger recomputes the rows itself.
    await h.sql(`UPDATE config.deployment SET generation_at = now() - interval '10 minutes'`);
    await eventually(async () => !(await h.call<FleetStatus>(v.status, {})).reconciling, 10_000);
    await eventually(() => nudges(seen.silent).length > before, 10_000);
  });

  it('counts a node that never reported anything as silent, not pending, once the grace has passed', async () => {
    await h.sayHello(hello('featureless'));
    await eventually(async () => (await h.sql(`SELECT 1 FROM config.nodes WHERE node_id = 'featureless'`)).length === 1);
    const early = await h.call<FleetStatus>(v.status, {});
    // 'silent' (its report row was deleted above) already; 'featureless' is still new, so pending.
    expect(early.silent).toBe(1);
    const later = await eventually(async () => {
      const f = await h.call<FleetStatus>(v.status, {});
      return f.silent === 2 ? f : undefined;
    }, 5000);
    expect(later.pending).toBe(early.pending - 1);
  });
});
