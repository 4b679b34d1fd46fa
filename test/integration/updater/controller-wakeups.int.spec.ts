import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RolloutView } from '#contracts/updater';
import { metricsRegistry } from '#lib/telemetry';
import { eventually } from '../../support/infra.js';
import { UpdaterHarness } from './harness.js';

/** Controller passes run so far in this process (the updater runs in-process). */
async function passes(): Promise<number> {
  const metric = metricsRegistry.getSingleMetric('fleet_updater_controller_tick_seconds');
  const values = (await metric!.get()).values as Array<{ metricName?: string; value: number }>;
  return values.find((v) => v.metricName === 'fleet_updater_controller_tick_seconds_count')?.value ?? 0;
}

/**
 * The controller's wake-ups, with a tick so long (60 s) that only wake-ups can move a rollout:
 * creating it wakes the controller, and so does every batch of terminal reports, but woken
 * passes are at least 250 ms apart, so a burst of reports costs a few passes.
 */
describe('updater: controller wake-ups', () => {
  const h = new UpdaterHarness({ UPDATER_TICK_MS: '60000' });

  beforeAll(async () => {
    await h.setUp();
  });
  afterAll(async () => {
    await h.tearDown();
  });

  it('completes a rollout on wake-ups alone, coalescing a burst of reports into a few passes', async () => {
    const nodes = Array.from({ length: 30 }, (_, i) => h.fleet.add({ id: `wk-${i}`, version: '1.0.0' }));
    await h.fleet.helloAll();
    await h.createRelease('1.0.0');
    const release = await h.createRelease('1.1.0');
    await h.leader();
    await eventually(async () => (await passes()) >= 1);
    await h.fleet.startAuto();
    const before = await passes();
    const started = Date.now();
    const r = await h.call<RolloutView>('createRollout', {
      releaseId: release.id,
      strategy: { type: 'waves', waves: [100], soakSeconds: 0 },
      rebootSlotsPerGroup: 1,
    });
    await eventually(async () => (await h.call<RolloutView>('getRollout', { id: r.id })).state === 'completed', 15_000);
    const elapsed = Date.now() - started;
    const ran = (await passes()) - before;
    for (const n of nodes) expect(n.version).toBe('1.1.0');
    expect(elapsed).toBeLessThan(15_000);
    // Through one reboot slot, the 30 terminal reports arrive one by one, each a wake-up (with
    // no gap that is a pass per report, about 30).
    expect(ran).toBeGreaterThanOrEqual(2);
    expect(ran).toBeLessThanOrEqual(Math.ceil(elapsed / 250) + 2);
    h.fleet.stopAuto();
  });
});
