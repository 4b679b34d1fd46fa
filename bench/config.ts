/**
 * Config fan-out benchmark (`npm run bench:config`).
 *
 * Fleetcore: the inventory and config services run as child processes (`dist/apps/.../main.js`)
 * on a throwaway database and a private subject root; N virtual agents run in this process with
 * the agent simulator (`startSimulator`) and the real `config` feature (files kept in memory).
 * Once every node has acknowledged the initial (empty) revision, one item is published and we
 * time, from the publish request, until 50 %, 99 % and 100 % of the nodes' acks of the new
 * revision are stored in PostgreSQL: the service emits `config.node.applied` for each batch after
 * its statement returned, and a final count in PostgreSQL confirms every one. With `--detail` the
 * notices, bundle requests and acks are also timed on NATS (wildcard subscriptions here: 20,000
 * more deliveries, so the headline figures are taken without them). CPU used by each process group
 * in that window is read from /proc.
 *
 * etcd baseline, same run: a private etcd (Debian's etcd-server) on loopback ports; N watchers on
 * one key through etcd's v3 HTTP/JSON gateway (`/v3/watch`, spread over a few streaming HTTP
 * connections), one `/v3/kv/put`, time until 50/99/100 % of the watchers saw the event. Skipped
 * with a message when no `etcd` binary is found.
 *
 * The virtual agents run in `--workers` child processes (default 2), each its own simulator, so
 * the agents' CPU does not delay the parent's measurements.
 *
 * Options: --nodes 10000 --workers 2 --etcd-connections 8 --skip-etcd --detail. Env: NATS_URL, BENCH_PG_URL.
 */
import { fork, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import http from 'node:http';
import { createServer } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { CONFIG, CONFIG_EVENTS, configVerbs } from '#contracts/config';
import { MessageBus } from '#lib/messaging';
import { JsonLogger } from '#lib/telemetry';
import { configFeature } from '../apps/agent/src/features/config/config.feature.js';
import { startSimulator } from '../apps/agent/src/simulator/simulator.js';

const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const PG_URL = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const main = (svc: string) => fileURLToPath(new URL(`../apps/${svc}/src/main.js`, import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ms = (n: number | undefined) => (n === undefined ? 'n/a' : `${Math.round(n)} ms`);

interface Timeline {
  p50?: number;
  p99?: number;
  p100?: number;
}

function percentiles(times: number[], total: number): Timeline {
  const sorted = [...times].sort((a, b) => a - b);
  const at = (q: number) => {
    const need = Math.ceil(total * q);
    return sorted.length >= need ? sorted[need - 1] : undefined;
  };
  return { p50: at(0.5), p99: at(0.99), p100: at(1) };
}

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs: number, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

function startService(svc: string, env: Record<string, string>): ChildProcess {
  const nodeArgs = process.env.BENCH_NODE_ARGS ? process.env.BENCH_NODE_ARGS.split(' ') : [];
  const child = spawn(process.execPath, [...nodeArgs, main(svc)], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stderr!.on('data', (d: Buffer) => process.stderr.write(`[${svc}] ${d}`));
  // Of the info lines (stdout) only the config service's recomputation timings are shown.
  child.stdout!.on('data', (d: Buffer) => {
    for (const line of String(d).split('\n')) if (line.includes('desired state recomputed')) process.stderr.write(`[${svc}] ${line}\n`);
  });
  return child;
}

async function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const done = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await done;
  clearTimeout(t);
}

// ---------------------------------------------------------------- CPU accounting

/**
 * CPU seconds (user + system) used so far by each group of processes, read from /proc (Linux).
 * Groups are re-resolved at every snapshot and include reaped children's time, so PostgreSQL
 * backends that start or exit inside the window are counted once.
 */
type CpuGroups = Record<string, () => number[]>;

function cpuSeconds(pid: number): number {
  try {
    // Fields after the command name (which may contain spaces): utime and stime are the 12th and 13th.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime, stime, cutime, cstime.
    return (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) / 100;
  } catch {
    return 0;
  }
}

function pidsNamed(name: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === name) out.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

function cpuSnapshot(groups: CpuGroups): Record<string, number> {
  return Object.fromEntries(Object.entries(groups).map(([k, pids]) => [k, pids().reduce((sum, pid) => sum + cpuSeconds(pid), 0)]));
}

function cpuDelta(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.keys(after).map((k) => [k, after[k] - (before[k] ?? 0)]));
}

// ---------------------------------------------------------------- Fleetcore

interface FleetResult {
  /** Per-message timings, with --detail only (measuring them loads NATS and this process). */
  detail?: { asked: Timeline; notices: Timeline; nats: Timeline };
  stored: Timeline;
  /** When the agents built their acks (the report's `at`, stored with it; millisecond clock). */
  sent: Timeline;
  setupSeconds: number;
  /** CPU seconds used by each group of processes from the publish until every ack was stored. */
  cpu: Record<string, number>;
  windowMs: number;
}

/**
 * With --detail: when each notice left the service, each bundle was asked for and each ack was
 * published, seen by wildcard subscriptions in this process (20,000 more deliveries for NATS).
 */
function watchDetail(bus: MessageBus, t0: () => number): { stop(nodes: number): Promise<{ asked: Timeline; notices: Timeline; nats: Timeline }> } {
  const acks = new Map<string, number>();
  const noticed: number[] = [];
  const asked: number[] = [];
  const subs = [
    bus.nc.subscribe(bus.subjects.anyAgentReport('config'), {
      callback: (_e, m) => {
        const r = m.json() as { kind: string; revision: number };
        if (r.kind !== 'apply' || r.revision !== 1) return;
        const id = m.subject.split('.')[bus.subjects.agentIdIndex];
        if (!acks.has(id)) acks.set(id, performance.now() - t0());
      },
    }),
    bus.nc.subscribe(bus.subjects.anyNode('config'), {
      callback: (_e, m) => {
        if ((m.json() as { revision: number }).revision === 1) noticed.push(performance.now() - t0());
      },
    }),
    bus.nc.subscribe(bus.subjects.anyAgent('config.bundle'), {
      callback: () => {
        if (t0() > 0) asked.push(performance.now() - t0());
      },
    }),
  ];
  return {
    async stop(nodes) {
      await until('every ack on NATS', async () => acks.size === nodes, 10_000, 20).catch(() => undefined);
      for (const s of subs) s.unsubscribe();
      return { asked: percentiles(asked, nodes), notices: percentiles(noticed, nodes), nats: percentiles([...acks.values()], nodes) };
    },
  };
}

async function benchFleetcore(nodes: number, workers: number, withDetail: boolean): Promise<FleetResult> {
  const suffix = randomBytes(4).toString('hex');
  const dbName = `fc_bench_config_${suffix}`;
  const root = `benchcfg${suffix}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  const dbUrl = new URL(PG_URL);
  dbUrl.pathname = `/${dbName}`;
  const env = { NATS_URL, DATABASE_URL: dbUrl.toString(), FLEET_SUBJECT_ROOT: root, LOG_LEVEL: 'warn', METRICS_PORT: '0' };
  const children: ChildProcess[] = [];
  const dataDir = mkdtempSync(join(tmpdir(), 'fleet-bench-config-'));
  const db = new pg.Client({ connectionString: dbUrl.toString() });
  const agentWorkers: ChildProcess[] = [];
  let bus: MessageBus | undefined;
  try {
    children.push(startService('inventory', { ...env, HEARTBEAT_INTERVAL_SECONDS: '60', HEARTBEAT_FLUSH_MS: '500' }));
    children.push(startService('config', { ...env, LOG_LEVEL: 'info', CONFIG_ALLOWED_ROOTS: '/etc', CONFIG_RESYNC_INTERVAL_MS: '3600000' }));
    bus = await MessageBus.connect({ url: NATS_URL, name: 'bench-config', subjectRoot: root, service: 'bench' });
    for (const svc of ['inventory', CONFIG]) await until(`${svc} ping`, () => bus!.request(bus!.subjects.svc(svc, 'ping'), {}, 500), 60_000, 200);
    await db.connect();

    const setupStart = performance.now();
    console.log(`starting ${nodes} virtual agents with the config feature in ${workers} processes...`);
    const per = Math.ceil(nodes / workers);
    for (let w = 0; w < workers; w++) {
      const count = Math.min(per, nodes - w * per);
      if (count <= 0) break;
      const child = fork(fileURLToPath(import.meta.url), ['--worker', '--first', String(w * per + 1), '--nodes', String(count), '--root', root, '--data-dir', dataDir], {
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        execArgv: [...process.execArgv, ...(process.env.BENCH_WORKER_ARGS ? process.env.BENCH_WORKER_ARGS.split(' ') : [])],
      });
      agentWorkers.push(child);
    }
    await Promise.all(
      agentWorkers.map(
        (child) =>
          new Promise<void>((resolve, reject) => {
            child.once('message', (m: { ready?: boolean; error?: string }) => (m.ready ? resolve() : reject(new Error(m.error))));
            child.once('exit', (code) => reject(new Error(`agent worker exited with ${code}`)));
          }),
      ),
    );
    const count = async (revision: number) =>
      (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM config.node_reports WHERE applied_revision = $1', [revision])).rows[0].n;
    await until('every node to acknowledge the initial revision', async () => (await count(0)) === nodes, 300_000, 500);
    const setupSeconds = (performance.now() - setupStart) / 1000;
    console.log(`setup: ${nodes} agents registered and on revision 0 after ${setupSeconds.toFixed(1)} s`);

    // Let the setup traffic settle before timing: the config service has consumed every
    // registration event and every initial report.
    const { jetstreamManager } = await import('@nats-io/jetstream');
    const jsm = await jetstreamManager(bus.nc);
    const idle = async (stream: string, durable: string) => {
      const info = await jsm.consumers.info(stream, durable);
      return info.num_pending === 0 && info.num_ack_pending === 0;
    };
    await until(
      'the config service to drain its consumers',
      async () => (await idle(bus!.subjects.eventsStream, 'config-inventory-events')) && (await idle(bus!.subjects.reportsStream, 'config-reports')),
      300_000,
      500,
    );
    await sleep(1000);
    let t0 = 0;
    // "Stored" is when the service announced the node's ack as written: it emits
    // `config.node.applied` per batch after the statement returned. No polling load on PostgreSQL.
    const storedAt = new Map<string, number>();
    const appliedSub = bus.nc.subscribe(bus.subjects.event(CONFIG, CONFIG_EVENTS.applied), {
      callback: (_e, m) => {
        const now = performance.now() - t0;
        for (const n of (m.json() as { data: { nodes: Array<{ nodeId: string; revision: number }> } }).data.nodes) {
          if (n.revision === 1 && !storedAt.has(n.nodeId)) storedAt.set(n.nodeId, now);
        }
      },
    });
    const detail = withDetail ? watchDetail(bus, () => t0) : undefined;
    await bus.nc.flush();
    await bus.request(bus.subjects.svc(CONFIG, configVerbs.draftSet), {
      scope: { kind: 'global' },
      file: { path: '/etc/bench/app.conf', content: `fanout=${suffix}\n`, mode: 0o644 },
      author: 'bench',
    });
    const groups: CpuGroups = {
      'simulated agents': () => agentWorkers.map((c) => c.pid!),
      'config service': () => [children[1].pid!],
      'inventory service': () => [children[0].pid!],
      'nats-server': () => pidsNamed('nats-server'),
      postgres: () => pidsNamed('postgres'),
      'bench (measuring)': () => [process.pid],
    };
    const cpuBefore = cpuSnapshot(groups);
    t0 = performance.now();
    const t0Epoch = Date.now();
    await bus.request(bus.subjects.svc(CONFIG, configVerbs.publish), { author: 'bench', message: 'fan-out', expectedRevision: 0 }, 30_000);
    const publishReplyMs = performance.now() - t0;
    await until('every node to acknowledge revision 1', async () => storedAt.size === nodes, 120_000, 5);
    const windowMs = performance.now() - t0;
    const cpu = cpuDelta(cpuBefore, cpuSnapshot(groups));
    appliedSub.unsubscribe();
    const inDb = await count(1);
    const sentAt = await db.query<{ ms: number }>(
      'SELECT (extract(epoch FROM last_at) * 1000)::float8 - $1 AS ms FROM config.node_reports WHERE applied_revision = 1',
      [t0Epoch],
    );
    if (inDb !== nodes) throw new Error(`the service announced ${nodes} acks but PostgreSQL holds ${inDb} at revision 1`);
    const seen = detail ? await detail.stop(nodes) : undefined;
    console.log(`publish request answered after ${Math.round(publishReplyMs)} ms`);
    return {
      detail: seen,
      stored: percentiles([...storedAt.values()], nodes),
      sent: percentiles(sentAt.rows.map((r) => r.ms), nodes),
      setupSeconds,
      cpu,
      windowMs,
    };
  } finally {
    await Promise.all(
      agentWorkers.map(async (child) => {
        if (child.exitCode !== null) return;
        const done = new Promise((r) => child.once('exit', r));
        child.send({ stop: true });
        const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await done;
        clearTimeout(t);
      }),
    );
    await bus?.drain().catch(() => undefined);
    for (const c of children) await stopChild(c);
    await db.end().catch(() => undefined);
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch(() => undefined);
    await admin.end();
    await cleanupStreams(root);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function cleanupStreams(root: string): Promise<void> {
  const { connect } = await import('@nats-io/transport-node');
  const { jetstreamManager } = await import('@nats-io/jetstream');
  const nc = await connect({ servers: NATS_URL });
  try {
    const jsm = await jetstreamManager(nc);
    const prefix = root.toUpperCase();
    for await (const info of jsm.streams.list()) {
      if (info.config.name.startsWith(`${prefix}_`)) await jsm.streams.delete(info.config.name).catch(() => undefined);
    }
  } finally {
    await nc.close();
  }
}

// ---------------------------------------------------------------- etcd baseline

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function etcdBinary(): string | undefined {
  for (const candidate of [process.env.ETCD_BIN, 'etcd', '/usr/bin/etcd', '/usr/local/bin/etcd'].filter(Boolean) as string[]) {
    const r = spawnSync(candidate, ['--version'], { encoding: 'utf8' });
    if (r.status === 0) return candidate;
  }
  return undefined;
}

const b64 = (s: string) => Buffer.from(s).toString('base64');

function post(port: number, path: string, body: unknown): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(text)) : reject(new Error(`${path}: ${res.statusCode} ${text}`))));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

async function benchEtcd(watchers: number, connections: number): Promise<Timeline | string> {
  const bin = etcdBinary();
  if (!bin) return 'etcd not found (apt-get install -y etcd-server etcd-client); etcd baseline skipped';
  const [client, peer] = [await freePort(), await freePort()];
  const dataDir = mkdtempSync(join(tmpdir(), 'fleet-bench-etcd-'));
  const etcd = spawn(
    bin,
    [
      '--name', 'bench',
      '--data-dir', dataDir,
      '--listen-client-urls', `http://127.0.0.1:${client}`,
      '--advertise-client-urls', `http://127.0.0.1:${client}`,
      '--listen-peer-urls', `http://127.0.0.1:${peer}`,
      '--initial-advertise-peer-urls', `http://127.0.0.1:${peer}`,
      '--initial-cluster', `bench=http://127.0.0.1:${peer}`,
      '--log-level', 'error',
      '--logger', 'zap',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let etcdErr = '';
  etcd.stderr!.on('data', (d) => (etcdErr = (etcdErr + d).slice(-2000)));
  const requests: http.ClientRequest[] = [];
  try {
    await until(
      'etcd health',
      () =>
        new Promise<boolean>((resolve) => {
          http.get({ host: '127.0.0.1', port: client, path: '/health' }, (res) => {
            let t = '';
            res.on('data', (d) => (t += d));
            res.on('end', () => resolve(/"health":\s*"true"/.test(t)));
          }).on('error', () => resolve(false));
        }),
      30_000,
      200,
    ).catch((err: Error) => {
      throw new Error(`${err.message}: ${etcdErr}`);
    });
    const key = 'fleet/bench/config';
    let created = 0;
    const seen = new Map<string, number>();
    let t0 = 0;
    for (let c = 0; c < connections; c++) {
      const share = Math.floor(watchers / connections) + (c < watchers % connections ? 1 : 0);
      const req = http.request({
        host: '127.0.0.1',
        port: client,
        path: '/v3/watch',
        method: 'POST',
        agent: false,
        headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
      });
      req.on('error', () => undefined);
      req.on('response', (res) => {
        let buffer = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffer += chunk;
          let nl: number;
          while ((nl = buffer.indexOf('\n')) >= 0) {
            const line = buffer.slice(0, nl).trim();
            buffer = buffer.slice(nl + 1);
            if (!line) continue;
            const result = (JSON.parse(line) as { result?: { created?: boolean; watch_id?: string; events?: unknown[] } }).result;
            if (!result) continue;
            const id = `${c}:${result.watch_id ?? '0'}`;
            if (result.created) created++;
            if (result.events?.length && !seen.has(id)) seen.set(id, performance.now() - t0);
          }
        });
      });
      for (let i = 0; i < share; i++) req.write(`${JSON.stringify({ create_request: { key: b64(key) } })}\n`);
      requests.push(req);
    }
    await until('every etcd watcher to be created', async () => created >= watchers, 60_000, 50);
    await sleep(1000);
    t0 = performance.now();
    await post(client, '/v3/kv/put', { key: b64(key), value: b64('revision-1') });
    await until('every etcd watcher to see the put', async () => seen.size >= watchers, 60_000, 5);
    return percentiles([...seen.values()], watchers);
  } finally {
    for (const r of requests) r.destroy();
    const done = new Promise((r) => etcd.once('exit', r));
    etcd.kill('SIGTERM');
    await done;
    rmSync(dataDir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- agent worker (child mode)

/**
 * Child mode: one share of the virtual agents, so the agents' CPU is spread over processes as a
 * real fleet's is spread over machines, and the parent's timestamps are not delayed by them.
 */
async function agentWorker(first: number, nodes: number, root: string, dataDir: string): Promise<void> {
  JsonLogger.setLevel('error');
  const sim = await startSimulator({
    nodes,
    firstIndex: first,
    prefix: 'cfg-',
    natsUrl: NATS_URL,
    subjectRoot: root,
    dataDir,
    heartbeatIntervalSeconds: 60,
    features: [configFeature],
    featureConfig: { config: { managedRoots: ['/etc'], driftIntervalSeconds: 3600 } },
  });
  await sim.allRegistered();
  process.send?.({ ready: true });
  process.on('message', async (m: { stop?: boolean }) => {
    if (!m.stop) return;
    await sim.stop().catch(() => undefined);
    process.exit(0);
  });
}

// ---------------------------------------------------------------- main

async function run(): Promise<void> {
  const { values } = parseArgs({
    options: {
      nodes: { type: 'string', default: '10000' },
      'etcd-connections': { type: 'string', default: '8' },
      'skip-etcd': { type: 'boolean', default: false },
      detail: { type: 'boolean', default: false },
      workers: { type: 'string', default: '2' },
      worker: { type: 'boolean', default: false },
      first: { type: 'string', default: '1' },
      root: { type: 'string', default: '' },
      'data-dir': { type: 'string', default: '' },
    },
  });
  JsonLogger.setLevel('error');
  const nodes = Number(values.nodes);
  if (values.worker) {
    await agentWorker(Number(values.first), nodes, values.root!, values['data-dir']!).catch((err: Error) => {
      process.send?.({ error: err.message });
      process.exit(1);
    });
    return;
  }
  const fleet = await benchFleetcore(nodes, Number(values.workers), values.detail!);
  const etcd = values['skip-etcd'] ? 'skipped (--skip-etcd)' : await benchEtcd(nodes, Number(values['etcd-connections']));

  console.log(`\nconfig fan-out to ${nodes} nodes (time from the publish request)`);
  console.log('                                      50%        99%       100%');
  const row = (label: string, t: Timeline) => console.log(`${label.padEnd(36)}${ms(t.p50).padStart(8)}${ms(t.p99).padStart(11)}${ms(t.p100).padStart(11)}`);
  if (fleet.detail) {
    row('Fleetcore notice sent to agents', fleet.detail.notices);
    if (fleet.detail.asked.p50 !== undefined) row('Fleetcore bundle requested by agents', fleet.detail.asked);
    else console.log('(bundles travelled inline with the notices: no bundle requests)');
    row('Fleetcore ack received (NATS)', fleet.detail.nats);
  }
  row('Fleetcore ack sent by the agent', fleet.sent);
  row('Fleetcore ack stored (PostgreSQL)', fleet.stored);
  const cpuTotal = Object.values(fleet.cpu).reduce((a, b) => a + b, 0);
  console.log(`\nCPU from the publish until the last ack was stored (${Math.round(fleet.windowMs)} ms on ${availableParallelism()} cores; /proc, 10 ms ticks):`);
  for (const [group, seconds] of Object.entries(fleet.cpu).sort(([, a], [, b]) => b - a)) {
    console.log(`  ${group.padEnd(20)}${`${Math.round(seconds * 1000)} ms`.padStart(9)}${`${((seconds * 1e6) / nodes).toFixed(0)} µs/node`.padStart(15)}`);
  }
  console.log(`  ${'total'.padEnd(20)}${`${Math.round(cpuTotal * 1000)} ms`.padStart(9)}${`${((cpuTotal * 1e6) / nodes).toFixed(0)} µs/node`.padStart(15)}`);
  if (typeof etcd === 'string') console.log(`etcd: ${etcd}`);
  else {
    row(`etcd watch event (${nodes} watchers)`, etcd);
    const ratio = fleet.stored.p99 !== undefined && etcd.p99 ? fleet.stored.p99 / etcd.p99 : undefined;
    console.log(`\ntarget: p99 ack <= 2000 ms: ${fleet.stored.p99 !== undefined && fleet.stored.p99 <= 2000 ? 'met' : 'MISSED'}; ` +
      `p99 <= 3x etcd p99: ${ratio !== undefined && ratio <= 3 ? 'met' : 'MISSED'} (${ratio?.toFixed(2) ?? 'n/a'}x)`);
  }
  process.exit(0);
}

run().catch((err: Error) => {
  console.error(`bench:config failed: ${err.stack ?? err.message}`);
  process.exit(1);
});
