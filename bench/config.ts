/**
 * Config fan-out benchmark (`npm run bench:config`).
 *
 * Fleetcore: the inventory and config services run as child processes (`dist/apps/.../main.js`)
 * on a throwaway database and a private subject root; N virtual agents run in this process with
 * the agent simulator (`startSimulator`) and the real `config` feature (files kept in memory).
 * Once every node has acknowledged the initial (empty) revision, one item is published and we
 * time, from the publish request, until 50 %, 99 % and 100 % of the nodes have acknowledged the
 * new revision: (a) as the ack arrives on NATS (agent report published) and (b) as the config
 * service has stored it in PostgreSQL (polled every 10 ms).
 *
 * etcd baseline, same run: a private etcd (Debian's etcd-server) on loopback ports; N watchers on
 * one key through etcd's v3 HTTP/JSON gateway (`/v3/watch`, spread over a few streaming HTTP
 * connections), one `/v3/kv/put`, time until 50/99/100 % of the watchers saw the event. Skipped
 * with a message when no `etcd` binary is found.
 *
 * The virtual agents run in `--workers` child processes (default 2), each its own simulator, so
 * the agents' CPU does not delay the parent's measurements.
 *
 * Options: --nodes 10000 --workers 2 --etcd-connections 8 --skip-etcd. Env: NATS_URL, BENCH_PG_URL.
 */
import { fork, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { CONFIG, configVerbs } from '#contracts/config';
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

// ---------------------------------------------------------------- Fleetcore

async function benchFleetcore(nodes: number, workers: number): Promise<{ asked: Timeline; notices: Timeline; nats: Timeline; stored: Timeline; setupSeconds: number }> {
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
    const arrivals = new Map<string, number>();
    let t0 = 0;
    const sub = bus.nc.subscribe(bus.subjects.anyAgentReport('config'), {
      callback: (_e, m) => {
        const r = m.json() as { kind: string; revision: number };
        if (r.kind !== 'apply' || r.revision !== 1) return;
        const id = m.subject.split('.')[bus!.subjects.agentIdIndex];
        if (!arrivals.has(id)) arrivals.set(id, performance.now() - t0);
      },
    });
    const noticed: number[] = [];
    const noticeSub = bus.nc.subscribe(bus.subjects.anyNode('config'), {
      callback: (_e, m) => {
        if ((m.json() as { revision: number }).revision === 1) noticed.push(performance.now() - t0);
      },
    });
    const asked: number[] = [];
    const askSub = bus.nc.subscribe(bus.subjects.anyAgent('config.bundle'), {
      callback: () => {
        if (t0 > 0) asked.push(performance.now() - t0);
      },
    });
    await bus.nc.flush();
    await bus.request(bus.subjects.svc(CONFIG, configVerbs.draftSet), {
      scope: { kind: 'global' },
      file: { path: '/etc/bench/app.conf', content: `fanout=${suffix}\n`, mode: 0o644 },
      author: 'bench',
    });
    t0 = performance.now();
    await bus.request(bus.subjects.svc(CONFIG, configVerbs.publish), { author: 'bench', message: 'fan-out', expectedRevision: 0 }, 30_000);
    const publishReplyMs = performance.now() - t0;
    const stored: number[] = [];
    let last = 0;
    await until(
      'every node to acknowledge revision 1',
      async () => {
        const n = await count(1);
        const now = performance.now() - t0;
        for (; last < n; last++) stored.push(now);
        return n === nodes;
      },
      120_000,
      10,
    );
    await until('every ack on NATS', async () => arrivals.size === nodes, 10_000, 20).catch(() => undefined);
    sub.unsubscribe();
    noticeSub.unsubscribe();
    askSub.unsubscribe();
    console.log(`publish request answered after ${Math.round(publishReplyMs)} ms`);
    return { asked: percentiles(asked, nodes), notices: percentiles(noticed, nodes), nats: percentiles([...arrivals.values()], nodes), stored: percentiles(stored, nodes), setupSeconds };
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
  const fleet = await benchFleetcore(nodes, Number(values.workers));
  const etcd = values['skip-etcd'] ? 'skipped (--skip-etcd)' : await benchEtcd(nodes, Number(values['etcd-connections']));

  console.log(`\nconfig fan-out to ${nodes} nodes (time from the publish request)`);
  console.log('                                      50%        99%       100%');
  const row = (label: string, t: Timeline) => console.log(`${label.padEnd(36)}${ms(t.p50).padStart(8)}${ms(t.p99).padStart(11)}${ms(t.p100).padStart(11)}`);
  row('Fleetcore notice sent to agents', fleet.notices);
  if (fleet.asked.p50 !== undefined) row('Fleetcore bundle requested by agents', fleet.asked);
  else console.log('(bundles travelled inline with the notices: no bundle requests)');
  row('Fleetcore ack received (NATS)', fleet.nats);
  row('Fleetcore ack stored (PostgreSQL)', fleet.stored);
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
