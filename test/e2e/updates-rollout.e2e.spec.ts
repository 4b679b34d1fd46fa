import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import type { NodePage } from '#contracts/inventory';
import type { GroupLocksView, ReleaseView, RolloutView } from '#contracts/updater';
import { MessageBus } from '#lib/messaging';
import { generateSigningKeyPair, parsePrivateKey, signDigest } from '../../apps/agent/src/features/updates/signing.js';
import { simulatedHealthFails } from '../../apps/agent/src/features/updates/updates.feature.js';
import { bucketOf, waveOf } from '../../apps/updater/src/rollouts/waves.js';
import { TEST_NATS_URL, createTestDatabase, deleteStreams, eventually, testSubjectRoot } from '../support/infra.js';
import { exited, spawnNode as start, stopProcess, type SpawnedProcess as Proc } from '../support/processes.js';

const kill = (child: Proc['child'] | undefined, signal: NodeJS.Signals = 'SIGKILL') => stopProcess(child, 5000, signal);

/**
 * 200 simulated agents (one `fleet-agent` simulator process running the real updates feature
 * with virtual slots) against the built inventory and updater processes: a rollout pauses itself
 * at its failure threshold, reboot-slot holders are sampled all along and never exceed a
 * group's capacity, and a SIGKILLed updater restarted mid-rollout loses no node's progress.
 */
const repo = resolve(import.meta.dirname, '../..');
const dist = (p: string) => join(repo, 'dist', p);
const NODES = 200;
const FAIL_RATE = 0.05;
const SLOTS = 3;
const keys = generateSigningKeyPair();





const SIMULATOR = `
const { startSimulator } = await import(process.env.SIM_MODULE);
const sim = await startSimulator(JSON.parse(process.env.SIM_OPTIONS));
await sim.allRegistered();
console.log('registered');
process.on('SIGTERM', () => sim.stop().then(() => process.exit(0)));
`;

/** x86_64 nodes of the simulator (every fifth virtual node is aarch64). */
const x86Ids = Array.from({ length: NODES }, (_, i) => i).filter((i) => i % 5 !== 4).map((i) => `sim-${i + 1}`);

/** A seed under which wave 1 of `[50, 100]` certainly has failures: the test does not rely on luck. */
function seedWithWaveOneFailures(version: string): { seed: number; failures: number } {
  for (let seed = 1; ; seed++) {
    const failures = x86Ids.filter((id) => waveOf(bucketOf(id), [50, 100]) === 0 && simulatedHealthFails(seed, id, version, FAIL_RATE)).length;
    if (failures >= 2) return { seed, failures };
  }
}

describe('rollouts over 200 simulated agents', () => {
  const root = testSubjectRoot();
  const dir = mkdtempSync(join(tmpdir(), 'fleet-e2e-rollout-'));
  const { seed } = seedWithWaveOneFailures('1.1.0');
  let dropDb: () => Promise<void>;
  let updaterEnv: Record<string, string>;
  let inventory: Proc;
  let updater: Proc;
  let simulator: Proc;
  let bus: MessageBus;
  /**
   * Per group: the most holders and the largest capacity seen. Capacity moves: an aborted
   * rollout's group falls back to the default (1) while nodes mid-reboot keep the slots they hold
   * (no new ones are granted), so holders are bounded by the most slots a rollout gave the group.
   */
  const maxHolders = new Map<string, { max: number; capacity: number }>();
  let sampling = true;
  let samples = 0;
  let sampler: Promise<void>;

  const updaterCall = <T>(verb: string, body: unknown) => bus.request<T>(bus.subjects.svc('updater', verb), body, 5000);
  const startUpdater = () => start([dist('apps/updater/src/main.js')], updaterEnv);

  async function release(version: string): Promise<ReleaseView> {
    const sha256 = createHash('sha256').update(`image ${version}`).digest('hex');
    return updaterCall<ReleaseView>('releases.create', {
      version,
      channel: 'stable',
      arch: 'x86_64',
      payload: { url: `http://127.0.0.1:9/${version}.raw`, sha256, size: 4096, signature: signDigest(sha256, parsePrivateKey(keys.privateKeyPem)) },
    });
  }

  /** Samples every group's reboot-slot holders throughout the test. */
  async function sample(): Promise<void> {
    while (sampling) {
      try {
        const { items } = await updaterCall<{ items: GroupLocksView[] }>('locks.list', {});
        samples++;
        for (const g of items) {
          const seen = maxHolders.get(g.group) ?? { max: 0, capacity: g.capacity };
          seen.max = Math.max(seen.max, g.holders.length);
          seen.capacity = Math.max(seen.capacity, g.capacity);
          maxHolders.set(g.group, seen);
        }
      } catch {
        // the updater is being restarted
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  beforeAll(async () => {
    const db = await createTestDatabase();
    dropDb = db.drop;
    const common = { NATS_URL: TEST_NATS_URL, DATABASE_URL: db.url, FLEET_SUBJECT_ROOT: root, LOG_LEVEL: 'warn', METRICS_PORT: '0' };
    updaterEnv = { ...common, UPDATER_TICK_MS: '200', UPDATER_LOCK_RETRY_SECONDS: '0.3', UPDATER_MEMBERS_REFRESH_MS: '1000' };
    inventory = start([dist('apps/inventory/src/main.js')], { ...common, HEARTBEAT_INTERVAL_SECONDS: '5' });
    updater = startUpdater();
    bus = await MessageBus.connect({ url: TEST_NATS_URL, name: 'e2e-rollout', subjectRoot: root, service: 'e2e' });
    for (const [name, proc] of [['inventory', inventory], ['updater', updater]] as const) {
      await eventually(() => bus.request(bus.subjects.svc(name, 'ping'), {}, 500), 30_000, 200).catch((err) => {
        throw new Error(`${name} did not start: ${(err as Error).message}\n${proc.output()}`);
      });
    }
    simulator = start(['--input-type=module', '-e', SIMULATOR], {
      SIM_MODULE: dist('apps/agent/src/simulator/simulator.js'),
      SIM_OPTIONS: JSON.stringify({
        nodes: NODES,
        prefix: 'sim-',
        natsUrl: TEST_NATS_URL,
        subjectRoot: root,
        groups: 4,
        dataDir: join(dir, 'sim'),
        failRate: FAIL_RATE,
        seed,
        heartbeatIntervalSeconds: 5,
        featureConfig: { updates: { trustedKeys: [keys.publicKeyBase64], lockRetrySeconds: 1, pollSeconds: 10 } },
      }),
      LOG_LEVEL: 'error',
    });
    await eventually(() => simulator.output().includes('registered'), 60_000, 200).catch((err) => {
      throw new Error(`simulator did not register: ${(err as Error).message}\n${simulator.output()}`);
    });
    sampler = sample();
  });

  afterAll(async () => {
    sampling = false;
    await sampler;
    await kill(simulator?.child, 'SIGTERM');
    for (const p of [updater, inventory]) await kill(p?.child);
    await bus?.drain().catch(() => undefined);
    await deleteStreams(root);
    await dropDb?.();
    rmSync(dir, { recursive: true, force: true });
  });

  it('pauses itself when wave 1 passes the failure threshold, without opening wave 2', async () => {
    const rel = await release('1.1.0');
    const rollout = await updaterCall<RolloutView>('rollouts.create', {
      releaseId: rel.id,
      strategy: { type: 'waves', waves: [50, 100], soakSeconds: 0 },
      rebootSlotsPerGroup: SLOTS,
      failureThresholdPercent: 1,
    });
    onTestFinished(() => updaterCall('rollouts.abort', { id: rollout.id, reason: 'e2e: next rollout' }).then(() => undefined));
    const paused = await eventually(async () => {
      const r = await updaterCall<RolloutView>('rollouts.get', { id: rollout.id });
      return r.state === 'paused' ? r : undefined;
    }, 60_000, 300).catch((err) => {
      throw new Error(`${(err as Error).message}\n--- updater\n${updater.output().slice(-3000)}\n--- simulator\n${simulator.output().slice(-3000)}`);
    });
    expect(paused.counts.total).toBe(x86Ids.length);
    expect(paused.reason).toMatch(/wave 1: \d+ of \d+ nodes failed/);
    // It pauses as soon as the failed share passes 1%, possibly before wave 1 has finished.
    const failed = (paused.waves[0].byState.rolled_back ?? 0) + (paused.waves[0].byState.failed ?? 0);
    expect(failed / paused.waves[0].total).toBeGreaterThan(0.01);
    const opened = await updaterCall<{ total: number }>('rollouts.nodes', { id: rollout.id, wave: 1, activated: true, limit: 1 });
    expect(opened.total).toBe(0);
    // Failures are rollbacks done by the nodes themselves, reported with the failed check.
    const rolledBack = await updaterCall<{ items: Array<{ code: string | null; message: string | null }> }>('rollouts.nodes', {
      id: rollout.id,
      state: 'rolled_back',
      limit: 10,
    });
    expect(rolledBack.items[0]).toMatchObject({ code: 'health_check_failed', message: expect.stringContaining('simulated') });
  });

  it('finishes a rollout whose updater was SIGKILLed and restarted mid-way, losing no node', async () => {
    const rel = await release('1.2.0');
    const rollout = await updaterCall<RolloutView>('rollouts.create', {
      releaseId: rel.id,
      strategy: { type: 'waves', waves: [100], soakSeconds: 0 },
      rebootSlotsPerGroup: SLOTS,
      failureThresholdPercent: 100,
    });
    await eventually(async () => {
      const r = await updaterCall<RolloutView>('rollouts.get', { id: rollout.id });
      return (r.counts.byState.succeeded ?? 0) >= 20;
    }, 60_000, 200);
    await kill(updater.child);
    // Nodes keep updating, verifying and reporting into JetStream while no updater runs.
    await new Promise((r) => setTimeout(r, 1500));
    updater = startUpdater();
    const done = await eventually(async () => {
      const r = await updaterCall<RolloutView>('rollouts.get', { id: rollout.id });
      return r.state === 'completed' ? r : undefined;
    }, 90_000, 500).catch((err) => {
      throw new Error(`${(err as Error).message}\n${updater.output()}`);
    });
    const by = done.counts.byState;
    expect(done.counts.total).toBe(x86Ids.length);
    expect((by.succeeded ?? 0) + (by.rolled_back ?? 0) + (by.failed ?? 0)).toBe(x86Ids.length);
    const expectedRollbacks = x86Ids.filter((id) => simulatedHealthFails(seed, id, '1.2.0', FAIL_RATE)).sort();
    const rolledBack = await updaterCall<{ items: Array<{ nodeId: string; code: string | null; message: string | null }> }>('rollouts.nodes', {
      id: rollout.id,
      state: 'rolled_back',
      limit: 1000,
    });
    expect(
      rolledBack.items.map((n) => n.nodeId).sort(),
      JSON.stringify(rolledBack.items.map((n) => [n.nodeId, n.code, n.message])),
    ).toEqual(expectedRollbacks);
    // Every success the updater recorded is a machine that really runs 1.2.0, and vice versa.
    const running = await eventually(async () => {
      const page = await bus.request<NodePage>(bus.subjects.svc('inventory', 'list'), { version: '1.2.0', limit: 1000 });
      return page.total === by.succeeded ? page : undefined;
    }, 15_000, 300);
    const on120 = running.total;
    expect(on120).toBe(by.succeeded);
  });

  it('never had more reboot-slot holders in a group than its capacity, sampled throughout', () => {
    expect(samples).toBeGreaterThan(50);
    const groups = [...maxHolders.entries()];
    expect(groups.length).toBeGreaterThan(0);
    for (const [, seen] of groups) {
      expect(seen.capacity).toBe(SLOTS);
      expect(seen.max).toBeLessThanOrEqual(SLOTS);
    }
    expect(Math.max(...groups.map(([, s]) => s.max))).toBeGreaterThan(0);
  });
});
