/**
 * Rollout benchmark (`npm run bench:rollout`). The inventory and the updater run as child
 * processes (`node dist/apps/<svc>/src/main.js`) on a throwaway database and a private subject
 * root. This process registers N virtual nodes with the inventory (real hello messages) and
 * drives them over NATS exactly as agents speak the update protocol (desired update on notice,
 * JetStream reports with message ids, reboot slots by request/reply), with instant reboots.
 *
 * A rollout of one release to all N nodes (waves 1,10,50,100 %, no soak, one reboot group with
 * S slots) is timed from creation to `completed`. Reported: completion time, updater CPU
 * (user+system of the child, from /proc, over the rollout), and the maximum number of reboot-slot
 * holders seen by sampling the semaphore table every 25 ms and by the nodes themselves.
 * A first, smaller rollout in the same run (--baseline nodes) gives the scaling baseline.
 *
 * With `--simulator`, the nodes are the agent simulator (`startSimulator` from apps/agent with the
 * real `updates` feature: same runner, virtual slots, restarts as reboots) instead of the
 * protocol-level virtual nodes.
 *
 * Options: --nodes 10000 --slots 100 --baseline 1000 [--simulator]. Env: NATS_URL, BENCH_PG_URL.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, createHash, generateKeyPairSync, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { MessageBus } from '#lib/messaging';
import { UPDATER, updaterVerbs, type ReleaseView, type RolloutView } from '#contracts/updater';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VirtualFleet } from '../apps/updater/src/testing/virtual-fleet.js';
import { startSimulator } from '../apps/agent/src/simulator/simulator.js';
import { updatesFeature } from '../apps/agent/src/features/updates/updates.feature.js';

const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const PG_URL = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const main = (svc: string) => fileURLToPath(new URL(`../apps/${svc}/src/main.js`, import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const CLK_TCK = 100;

function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK; // utime + stime
}

function startChild(svc: string, env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(process.execPath, [main(svc)], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
  child.on('exit', (code, signal) => {
    if (code !== 0 && signal !== 'SIGTERM') console.error(`${svc} exited with ${code ?? signal}`);
  });
  return child;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const done = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await Promise.race([done, sleep(10_000).then(() => child.kill('SIGKILL'))]);
}

interface RunResult {
  nodes: number;
  seconds: number;
  cpuSeconds: number;
  maxHoldersSampled: number;
  maxHoldersNodes: number;
  reportsPerSecond: number;
}

async function runRollout(
  bus: MessageBus,
  db: pg.Pool,
  updaterPid: number,
  registered: number,
  slots: number,
  channel: string,
  simulator: boolean,
): Promise<RunResult> {
  let nodes = registered;
  const call = <T>(verb: keyof typeof updaterVerbs, body: unknown) => bus.request<T>(bus.subjects.svc(UPDATER, updaterVerbs[verb]), body, 30_000);
  const group = simulator ? 'default' : 'bench';
  const fleet = new VirtualFleet(bus);
  fleet.lockRetryMs = 5000;
  const t0 = Date.now();
  let stopSimulator = async () => {};
  if (simulator) {
    const dataDir = await mkdtemp(join(tmpdir(), 'bench-rollout-'));
    const sim = await startSimulator({
      nodes,
      prefix: `${channel}-`,
      natsUrl: NATS_URL,
      subjectRoot: bus.subjects.root,
      channel,
      groups: 1,
      dataDir,
      os: { name: 'fleet-os', version: '1.0.0' },
      features: [updatesFeature],
      featureConfig: { updates: { lockRetrySeconds: 5, pollSeconds: 600 } },
    });
    await sim.allRegistered();
    stopSimulator = async () => {
      await sim.stop();
      await rm(dataDir, { recursive: true, force: true });
    };
  } else {
    for (let i = 0; i < nodes; i++) fleet.add({ id: `${channel}-${String(i).padStart(5, '0')}`, channel, version: '1.0.0', group });
    await fleet.helloAll(500);
  }
  console.log(`  registered ${nodes} nodes in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const keys = generateKeyPairSync('ed25519');
  const payload = (v: string) => {
    const digest = createHash('sha256').update(v).digest();
    return { url: `http://127.0.0.1:9/${v}.img`, sha256: digest.toString('hex'), size: 1, signature: sign(null, digest, keys.privateKey).toString('base64') };
  };
  await call('createRelease', { version: '1.0.0', channel, arch: 'x86_64', payload: payload('1.0.0') });
  const release = await call<ReleaseView>('createRelease', { version: '1.1.0', channel, arch: 'x86_64', payload: payload('1.1.0') });
  if (!simulator) await fleet.startAuto();

  let sampling = true;
  let maxSampled = 0;
  const sampler = (async () => {
    while (sampling) {
      const { rows } = await db.query(`SELECT count(*)::int AS n FROM updater.reboot_locks WHERE "group" = $1 AND expires_at > now()`, [group]);
      maxSampled = Math.max(maxSampled, rows[0].n);
      await sleep(25);
    }
  })();
  const cpu0 = cpuSeconds(updaterPid);
  const start = Date.now();
  const rollout = await call<RolloutView>('createRollout', {
    releaseId: release.id,
    strategy: { type: 'waves', waves: [1, 10, 50, 100], soakSeconds: 0 },
    rebootSlotsPerGroup: slots,
    nodeTimeoutSeconds: 600,
  });
  let last = '';
  for (;;) {
    const view = await call<RolloutView>('getRollout', { id: rollout.id });
    const line = `  wave ${view.currentWave + 1}/4 ${JSON.stringify(view.counts.byState)}`;
    if (line !== last) {
      console.log(`  ${((Date.now() - start) / 1000).toFixed(1)} s${line}`);
      last = line;
    }
    if (view.state === 'completed') break;
    if (view.state !== 'running' && view.state !== 'pending') throw new Error(`rollout ended ${view.state}: ${view.reason}`);
    await sleep(1000);
  }
  const seconds = (Date.now() - start) / 1000;
  const cpu = cpuSeconds(updaterPid) - cpu0;
  sampling = false;
  await sampler;
  fleet.stopAuto();
  await stopSimulator();
  if (fleet.errors.length) console.log(`  virtual node errors: ${fleet.errors.length}, first: ${fleet.errors[0].message}`);
  for (const n of fleet.nodes.values()) if (n.version !== '1.1.0') throw new Error(`node ${n.id} is on ${n.version}`);
  const final = await call<RolloutView>('getRollout', { id: rollout.id });
  // The simulator makes every fifth node aarch64: the x86_64 release targets the others.
  const expected = simulator ? final.counts.total : nodes;
  if ((simulator && expected < nodes * 0.75) || final.counts.total !== expected || final.counts.byState.succeeded !== expected) {
    throw new Error(`not every node succeeded: ${final.counts.total} targeted, ${JSON.stringify(final.counts.byState)}`);
  }
  nodes = expected;
  return {
    nodes,
    seconds,
    cpuSeconds: cpu,
    maxHoldersSampled: maxSampled,
    maxHoldersNodes: fleet.maxHolders.get(group) ?? 0,
    reportsPerSecond: (nodes * 6) / seconds,
  };
}

async function run(): Promise<void> {
  const { values } = parseArgs({
    options: {
      nodes: { type: 'string', default: '10000' },
      slots: { type: 'string', default: '100' },
      baseline: { type: 'string', default: '1000' },
      simulator: { type: 'boolean', default: false },
    },
  });
  const nodes = Number(values.nodes);
  const slots = Number(values.slots);
  const baseline = Number(values.baseline);
  const dbName = `bench_rollout_${randomBytes(4).toString('hex')}`;
  const root = `bench${randomBytes(4).toString('hex')}`;
  const dbUrl = new URL(PG_URL);
  dbUrl.pathname = `/${dbName}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  const env = {
    NATS_URL,
    DATABASE_URL: dbUrl.toString(),
    FLEET_SUBJECT_ROOT: root,
    LOG_LEVEL: 'warn',
    UPDATER_TICK_MS: '250',
    UPDATER_LOCK_RETRY_SECONDS: '5',
    HEARTBEAT_INTERVAL_SECONDS: '600',
  };
  const inventory = startChild('inventory', env);
  const updater = startChild('updater', env);
  const onSignal = () => {
    inventory.kill('SIGTERM');
    updater.kill('SIGTERM');
    process.exit(130);
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  const bus = await MessageBus.connect({ url: NATS_URL, name: 'bench-rollout', subjectRoot: root, service: 'bench' });
  const db = new pg.Pool({ connectionString: dbUrl.toString(), max: 2 });
  try {
    for (const svc of ['inventory', UPDATER]) {
      for (let i = 0; ; i++) {
        try {
          await bus.request(bus.subjects.svc(svc, 'ping'), {}, 1000);
          break;
        } catch (err) {
          if (i > 60) throw err;
          await sleep(500);
        }
      }
    }
    const results: RunResult[] = [];
    if (baseline > 0) {
      console.log(`baseline: rollout to ${baseline} nodes, ${slots} slots`);
      results.push(await runRollout(bus, db, updater.pid!, baseline, slots, 'base', values.simulator));
    }
    console.log(`rollout to ${nodes} nodes, ${slots} slots${values.simulator ? ' (agent simulator)' : ''}`);
    results.push(await runRollout(bus, db, updater.pid!, nodes, slots, 'main', values.simulator));
    console.log('\n| nodes | completion | updater CPU | CPU ms/node | reports/s | max holders (sampled / nodes) | slots |');
    console.log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const r of results) {
      console.log(
        `| ${r.nodes} | ${r.seconds.toFixed(1)} s | ${r.cpuSeconds.toFixed(1)} s | ${((r.cpuSeconds * 1000) / r.nodes).toFixed(2)} | ${Math.round(r.reportsPerSecond)} | ${r.maxHoldersSampled} / ${r.maxHoldersNodes} | ${slots} |`,
      );
      if (r.maxHoldersSampled > slots || r.maxHoldersNodes > slots) throw new Error('reboot slot capacity exceeded');
    }
  } finally {
    await bus.drain().catch(() => undefined);
    await db.end().catch(() => undefined);
    await stopChild(updater);
    await stopChild(inventory);
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch(() => undefined);
    await admin.end();
    const { jetstreamManager } = await import('@nats-io/jetstream');
    const { connect } = await import('@nats-io/transport-node');
    const nc = await connect({ servers: NATS_URL });
    const jsm = await jetstreamManager(nc);
    for await (const s of jsm.streams.list()) if (s.config.name.startsWith(`${root.toUpperCase()}_`)) await jsm.streams.delete(s.config.name);
    await nc.close();
  }
}

await run();
