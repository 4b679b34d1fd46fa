/**
 * Inventory benchmark (`npm run bench:inventory`). One inventory instance runs as a child process
 * (`node dist/apps/inventory/src/main.js`) on a throwaway database and a private subject root.
 *
 *  1. baseline: publishers send heartbeats as fast as one plain NATS subscriber (another child
 *     process, counting messages and nothing else) takes them; its receive rate is the raw rate;
 *  2. registration: N nodes say hello (bounded hellos from here, 200 in flight, or with
 *     --simulator the agent simulator's virtual agents); timed until every node is registered AND
 *     the inventory reports N online;
 *  3. ingestion: the same publishers send heartbeats for those N nodes as fast as the inventory
 *     takes them; what counts is what the inventory's flushes really wrote to PostgreSQL.
 *
 * Publishers are credit-based (at most `--window` messages ahead of what the receiver reports),
 * so neither receiver is cut off by the NATS server as a slow consumer: "as fast as they can"
 * means as fast as the receiver absorbs. Options: --nodes 10000 --seconds 15 --publishers 3
 * --window 50000 --simulator. Env: NATS_URL, BENCH_PG_URL (admin URL of the PostgreSQL server),
 * BENCH_INVENTORY_NODE_ARGS (extra node flags for the inventory, e.g. --cpu-prof).
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Subjects } from '#contracts/common';
import type { FleetSummary, HelloInput, InventoryStats } from '#contracts/inventory';
import { MessageBus } from '#lib/messaging';

const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const PG_URL = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const INVENTORY_MAIN = fileURLToPath(new URL('../apps/inventory/src/main.js', import.meta.url));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** CPU seconds (user + system) a process has used so far, from /proc (Linux). */
function cpuSeconds(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return NaN;
  }
}
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

// ---------------------------------------------------------------- raw subscriber (child mode)

/** Child mode: subscribe, count, report the count to the parent every 20 ms. */
async function rawSubscriber(subject: string): Promise<void> {
  const nc = await connect({ servers: NATS_URL, name: 'bench-raw-subscriber' });
  let count = 0;
  nc.subscribe(subject, { callback: () => void count++ });
  await nc.flush();
  process.send?.({ ready: true });
  const timer = setInterval(() => process.send?.({ count }), 20);
  process.on('message', async (m: { stop?: boolean }) => {
    if (!m.stop) return;
    clearInterval(timer);
    process.send?.({ count, final: true });
    await nc.close();
    process.exit(0);
  });
}

// ---------------------------------------------------------------- publishers

interface Flood {
  sent: number;
  seconds: number;
}

function heartbeatPayloads(): Uint8Array[] {
  return Array.from({ length: 16 }, (_, i) =>
    new TextEncoder().encode(
      JSON.stringify({
        v: 1,
        uptimeSeconds: 1000 + i,
        load: [0.1 * i, 0.2, 0.3],
        memory: { totalBytes: 8_000_000_000, availableBytes: 4_000_000_000 - i * 1000 },
        disk: { totalBytes: 100_000_000_000, availableBytes: 50_000_000_000 },
        health: 'healthy',
      }),
    ),
  );
}

/**
 * `publishers` connections publish round-robin over `subjects` for `seconds`, never more than
 * `window` messages ahead of `received()` (the receiver's own count).
 */
async function flood(
  conns: NatsConnection[],
  subjects: string[],
  seconds: number,
  window: number,
  received: () => number,
): Promise<Flood> {
  const payloads = heartbeatPayloads();
  let sent = 0;
  let next = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const run = async (nc: NatsConnection) => {
    let sinceFlush = 0;
    while (performance.now() < deadline) {
      if (sent - received() >= window) {
        await sleep(1);
        continue;
      }
      for (let k = 0; k < 500; k++) {
        const i = next++ % subjects.length;
        nc.publish(subjects[i], payloads[i & 15]);
      }
      sent += 500;
      sinceFlush += 500;
      if (sinceFlush >= 5000) {
        sinceFlush = 0;
        await nc.flush();
      } else {
        await new Promise((r) => setImmediate(r));
      }
    }
    await nc.flush();
  };
  await Promise.all(conns.map(run));
  return { sent, seconds: (performance.now() - started) / 1000 };
}

// ---------------------------------------------------------------- inventory child

async function startInventory(env: Record<string, string>): Promise<ChildProcess> {
  // BENCH_INVENTORY_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof", to profile the service.
  const nodeArgs = (process.env.BENCH_INVENTORY_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, INVENTORY_MAIN], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  child.on('exit', (code, signal) => {
    if (code !== 0 && signal !== 'SIGTERM') console.error(`inventory exited: code ${code} signal ${signal}`);
  });
  return child;
}

async function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await Promise.race([exited, sleep(10_000)]);
  if (child.exitCode === null) child.kill('SIGKILL');
}

// ---------------------------------------------------------------- registration

function helloFor(nodeId: string, i: number): HelloInput {
  return {
    v: 1,
    nodeId,
    hostname: `${nodeId}.bench`,
    labels: { zone: `z${i % 3}`, tier: i % 2 ? 'web' : 'db' },
    group: `group-${i % 4}`,
    channel: 'stable',
    arch: 'amd64',
    os: { name: 'Fleetcore Linux', version: '1.0.0' },
    kernel: '6.6.0',
    bootedSlot: 'a',
    agentVersion: 'bench',
    runtimes: [{ name: 'containerd', version: '1.7.0' }],
    bootId: `boot-${i}`,
  };
}

/** Hellos sent from here over `connections` buses, at most `concurrency` in flight. */
async function registerDirect(root: string, ids: string[], concurrency: number): Promise<void> {
  const buses = await Promise.all(
    [0, 1].map((i) => MessageBus.connect({ url: NATS_URL, name: `bench-hello-${i}`, subjectRoot: root, service: 'bench' })),
  );
  let next = 0;
  const worker = async (w: number) => {
    const bus = buses[w % buses.length];
    while (next < ids.length) {
      const i = next++;
      for (let attempt = 0; ; attempt++) {
        try {
          await bus.request(bus.subjects.agent(ids[i], 'hello'), helloFor(ids[i], i), 30_000);
          break;
        } catch (err) {
          if (attempt >= 3) throw err;
        }
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, w) => worker(w)));
  await Promise.all(buses.map((b) => b.drain()));
}

/** Uses the agent simulator (apps/agent) when it is built: real agents on the wire. */
async function registerWithSimulator(root: string, n: number): Promise<{ ids: string[]; stop: () => Promise<void> } | null> {
  const path = new URL('../apps/agent/src/simulator/simulator.js', import.meta.url);
  if (!existsSync(path)) return null;
  try {
    // Loosely typed on purpose: the simulator belongs to the agent and may evolve.
    const { startSimulator } = (await import(path.href)) as {
      startSimulator(o: Record<string, unknown>): Promise<{ nodeIds: string[]; allRegistered(): Promise<void>; stop(): Promise<void> }>;
    };
    const sim = await startSimulator({ nodes: n, natsUrl: NATS_URL, subjectRoot: root, features: [], groups: 4 });
    await sim.allRegistered();
    return { ids: sim.nodeIds, stop: () => sim.stop() };
  } catch (err) {
    console.error(`simulator unavailable (${(err as Error).message}); sending hellos directly`);
    return null;
  }
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      nodes: { type: 'string', default: '10000' },
      seconds: { type: 'string', default: '15' },
      publishers: { type: 'string', default: '3' },
      window: { type: 'string', default: '50000' },
      simulator: { type: 'boolean', default: false },
      'raw-subscriber': { type: 'string' },
    },
  });
  if (values['raw-subscriber']) return rawSubscriber(values['raw-subscriber']);

  const nodes = Number(values.nodes);
  const seconds = Number(values.seconds);
  const publishers = Number(values.publishers);
  const window = Number(values.window);
  const tag = randomBytes(4).toString('hex');
  const root = `bench${tag}`;
  const rawRoot = `benchraw${tag}`;
  const dbName = `fc_bench_${tag}`;
  const dbUrl = new URL(PG_URL);
  dbUrl.pathname = `/${dbName}`;
  const subjects = new Subjects(root);

  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);

  let inventory: ChildProcess | undefined;
  let raw: ChildProcess | undefined;
  const conns: NatsConnection[] = [];
  let client: MessageBus | undefined;
  const cleanup = async () => {
    await stopChild(raw);
    await stopChild(inventory);
    await Promise.all(conns.map((c) => c.close().catch(() => undefined)));
    await client?.drain().catch(() => undefined);
    const { jetstreamManager } = await import('@nats-io/jetstream');
    const nc = await connect({ servers: NATS_URL });
    const jsm = await jetstreamManager(nc);
    await jsm.streams.delete(subjects.eventsStream).catch(() => undefined);
    await nc.close();
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch(() => undefined);
    await admin.end();
  };
  const hardStop = setTimeout(() => {
    console.error('benchmark exceeded its time budget; cleaning up');
    void cleanup().finally(() => process.exit(2));
  }, (240 + seconds * 3) * 1000);
  hardStop.unref();

  try {
    inventory = await startInventory({
      NATS_URL,
      DATABASE_URL: dbUrl.toString(),
      FLEET_SUBJECT_ROOT: root,
      LOG_LEVEL: 'warn',
      HEARTBEAT_INTERVAL_SECONDS: '10',
    });
    client = await MessageBus.connect({ url: NATS_URL, name: 'bench-client', subjectRoot: root, service: 'bench' });
    const call = <T>(verb: string, body: unknown = {}, timeoutMs = 10_000) =>
      client!.request<T>(subjects.svc('inventory', verb), body, timeoutMs);
    for (let i = 0; ; i++) {
      try {
        await call('ping', {}, 500);
        break;
      } catch {
        if (i > 120) throw new Error('inventory did not start within 60 s');
        await sleep(500);
      }
    }
    for (let i = 0; i < publishers; i++) conns.push(await connect({ servers: NATS_URL, name: `bench-pub-${i}` }));

    // 1. Baseline: a plain subscriber on a separate subject root.
    raw = fork(fileURLToPath(import.meta.url), ['--raw-subscriber', `${rawRoot}.agent.*.heartbeat`], { stdio: 'inherit' });
    let rawCount = 0;
    const rawReady = new Promise<void>((resolve) =>
      raw!.on('message', (m: { ready?: boolean; count?: number }) => {
        if (m.ready) resolve();
        if (m.count !== undefined) rawCount = Math.max(rawCount, m.count);
      }),
    );
    await rawReady;
    const rawSubjects = Array.from({ length: nodes }, (_, i) => `${rawRoot}.agent.sim-${i + 1}.heartbeat`);
    const rawCpu0 = cpuSeconds(raw.pid);
    const baseline = await flood(conns, rawSubjects, seconds, window, () => rawCount);
    const baselineWait = performance.now();
    while (rawCount < baseline.sent && performance.now() - baselineWait < 5000) await sleep(10);
    const rawSeconds = baseline.seconds + (performance.now() - baselineWait) / 1000;
    const rawRate = rawCount / rawSeconds;
    const rawCpuPerMsg = ((cpuSeconds(raw.pid) - rawCpu0) / rawCount) * 1e6;
    raw.send({ stop: true });
    await new Promise((r) => raw!.once('exit', r));
    raw = undefined;

    // 2. Registration.
    const regStart = performance.now();
    let ids: string[];
    let method: string;
    const sim = values.simulator ? await registerWithSimulator(root, nodes) : null;
    if (sim) {
      ids = sim.ids;
      method = 'agent simulator';
    } else {
      ids = Array.from({ length: nodes }, (_, i) => `sim-${i + 1}`);
      await registerDirect(root, ids, 200);
      method = 'direct hellos, 200 in flight';
    }
    const helloDone = performance.now();
    for (;;) {
      const summary = await call<FleetSummary>('summary');
      if ((summary.byStatus.online ?? 0) >= nodes) break;
      if (performance.now() - regStart > 120_000) throw new Error(`only ${summary.byStatus.online} of ${nodes} online after 120 s`);
      await sleep(100);
    }
    const regSeconds = (performance.now() - regStart) / 1000;
    const helloSeconds = (helloDone - regStart) / 1000;
    await sim?.stop();

    // 3. Ingestion into PostgreSQL through the inventory.
    const stats = () => call<InventoryStats>('stats', {}, 30_000);
    const before = (await stats()).heartbeats;
    let received = 0;
    let polling = true;
    // Several stats requests in flight: replies queue behind heartbeats, so one at a time would stall.
    const poller = (async () => {
      while (polling) {
        void stats().then(
          (s) => (received = Math.max(received, s.heartbeats.received - before.received)),
          () => undefined,
        );
        await sleep(20);
      }
    })();
    const hbSubjects = ids.map((id) => subjects.agent(id, 'heartbeat'));
    const invCpu0 = cpuSeconds(inventory.pid);
    const ingestStart = performance.now();
    const run = await flood(conns, hbSubjects, seconds, window, () => received);
    let after = (await stats()).heartbeats;
    // Steady state: what flushes had written by the time the publishers stopped.
    const windowFlushed = after.heartbeatsFlushed - before.heartbeatsFlushed;
    const windowSeconds = (performance.now() - ingestStart) / 1000;
    const waitStart = performance.now();
    while (
      (after.received - before.received < run.sent || after.buffered > 0 || after.heartbeatsFlushed - before.heartbeatsFlushed < after.received - before.received) &&
      performance.now() - waitStart < 15_000
    ) {
      await sleep(50);
      after = (await stats()).heartbeats;
    }
    const ingestSeconds = (performance.now() - ingestStart) / 1000;
    polling = false;
    await poller;
    const d = (k: keyof InventoryStats['heartbeats']) => after[k] - before[k];
    const ingested = d('heartbeatsFlushed');
    const ingestRate = ingested / ingestSeconds;
    const invCpuPerHb = ((cpuSeconds(inventory.pid) - invCpu0) / d('received')) * 1e6;
    const db = new pg.Client({ connectionString: dbUrl.toString() });
    await db.connect();
    const [{ online }] = (await db.query(`SELECT count(*) FILTER (WHERE status = 'online')::int AS online FROM inventory.nodes`)).rows;
    await db.end();

    const rows: Array<[string, string]> = [
      ['nodes', fmt(nodes)],
      ['registration method', method],
      ['hellos answered (s)', helloSeconds.toFixed(1)],
      ['registered and online (s)', `${regSeconds.toFixed(1)}  (target < 60)`],
      ['raw NATS: msgs received/s (1 plain subscriber)', fmt(rawRate)],
      ['inventory: heartbeats published', fmt(run.sent)],
      ['inventory: heartbeats received', fmt(d('received'))],
      ['inventory: heartbeats ingested into PostgreSQL', fmt(ingested)],
      ['inventory: heartbeats ingested/s (incl. final drain)', `${fmt(ingestRate)}  (target >= 20,000)`],
      ['inventory: share of raw NATS rate', `${((ingestRate / rawRate) * 100).toFixed(0)} %  (target >= 33 %)`],
      ['inventory: ingested/s while publishing (steady state)', `${fmt(windowFlushed / windowSeconds)}  (${((windowFlushed / windowSeconds / rawRate) * 100).toFixed(0)} % of raw)`],
      ['CPU per message: inventory / raw subscriber (µs)', `${invCpuPerHb.toFixed(1)} / ${rawCpuPerMsg.toFixed(1)}`],
      ['inventory: rows written/s (after coalescing)', fmt(d('rowsFlushed') / ingestSeconds)],
      ['inventory: flushes (statements)', `${fmt(d('flushes'))}  (${fmt(d('rowsFlushed') / Math.max(1, d('flushes')))} rows each)`],
      ['inventory: dropped / failed flushes', `${d('dropped')} / ${d('failedFlushes')}`],
      ['nodes online at the end', fmt(online)],
      ['phase length (s)', `${seconds} (+ drain: ingestion ${ingestSeconds.toFixed(1)} s, raw ${rawSeconds.toFixed(1)} s)`],
    ];
    const width = Math.max(...rows.map((r) => r[0].length));
    console.log(`\nInventory benchmark (${publishers} publisher connections, window ${fmt(window)} msgs, ${new Date().toISOString()})`);
    for (const [k, v] of rows) console.log(`  ${k.padEnd(width)}  ${v}`);
  } finally {
    clearTimeout(hardStop);
    await cleanup();
  }
}

const invokedDirectly = process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href;
if (invokedDirectly) {
  main().then(
    () => {
      if (!process.argv.includes('--raw-subscriber')) process.exit(0);
    },
    (err: Error) => {
      console.error(err);
      process.exit(1);
    },
  );
}
