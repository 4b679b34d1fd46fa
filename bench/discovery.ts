/**
 * Discovery benchmark (`npm run bench:discovery`). The discovery service and the gateway run as
 * child processes (`node dist/apps/<svc>/src/main.js`) on a throwaway database and a private
 * subject root; this process plays the fleet and the clients.
 *
 *  1. catalog: N simulated nodes (plain NATS clients speaking the agent protocol, as `fleet-agent`
 *     does) register S services each (default 500 × 10 = 5,000 instances over 50 service names),
 *     then report every check passing through the JetStream report stream;
 *  2. queries: `GET /api/v1/services/<name>?passing` through the gateway at a fixed request rate
 *     (open loop: latency counts from each request's scheduled time, so a stall is not hidden),
 *     beside the same query straight on the NATS API and the gateway's /healthz as baselines;
 *  3. watches: one blocking query per service parked in the gateway (`?index&wait`), one on the
 *     NATS API, and a subscriber on `<root>.events.discovery.service.*`; health changes are made
 *     by agent reports at a steady pace, and the delay from the report to the event and to each
 *     blocking query's return is measured.
 *
 * Options: --nodes 500 --services 10 --names 50 --rate 50 --seconds 10 --changes 200.
 * Env: NATS_URL, BENCH_PG_URL (admin URL of the PostgreSQL server).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { MessageBus, encodeJson } from '#lib/messaging';
import type { AgentDiscoveryReport, AgentRegister, InstancesReply, ServiceChangedEvent } from '#contracts/discovery';

const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const PG_URL = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const main = (svc: string) => fileURLToPath(new URL(`../apps/${svc}/src/main.js`, import.meta.url));
const ADMIN = `fct_bench-${randomBytes(24).toString('hex')}`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}
const ms = (v: number) => (Number.isNaN(v) ? '-' : `${v.toFixed(v < 10 ? 2 : 1)} ms`);
const stats = (label: string, values: number[]) =>
  `${label.padEnd(58)} n=${String(values.length).padStart(5)}  p50 ${ms(percentile(values, 50)).padStart(10)}  p99 ${ms(percentile(values, 99)).padStart(10)}  max ${ms(Math.max(...values)).padStart(10)}`;

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => res(port));
    });
  });
}

function startService(svc: string, env: Record<string, string>): ChildProcess {
  // BENCH_PROFILE=<dir>: CPU profiles of the services, written when they exit.
  const prof = process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
  const child = spawn(process.execPath, [...prof, main(svc)], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr!.on('data', (d) => {
    const line = String(d);
    if (/"level":"error"|Error/.test(line)) process.stderr.write(`[${svc}] ${line}`);
  });
  return child;
}

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

/** Runs `fn` at `rate` per second for `seconds`, open loop; returns latencies from the scheduled times. */
async function fixedRate(rate: number, seconds: number, fn: (i: number) => Promise<void>): Promise<{ latencies: number[]; errors: number }> {
  const latencies: number[] = [];
  let errors = 0;
  const total = Math.round(rate * seconds);
  const start = performance.now();
  const inflight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const scheduled = start + (i * 1000) / rate;
    const wait = scheduled - performance.now();
    if (wait > 0) await sleep(wait);
    inflight.push(
      fn(i).then(
        () => void latencies.push(performance.now() - scheduled),
        () => void errors++,
      ),
    );
  }
  await Promise.all(inflight);
  return { latencies, errors };
}

async function run(): Promise<void> {
  const { values } = parseArgs({
    options: {
      nodes: { type: 'string', default: '500' },
      services: { type: 'string', default: '10' },
      names: { type: 'string', default: '50' },
      rate: { type: 'string', default: '50' },
      seconds: { type: 'string', default: '10' },
      changes: { type: 'string', default: '200' },
    },
  });
  const nodes = Number(values.nodes);
  const perNode = Number(values.services);
  const names = Number(values.names);
  const rate = Number(values.rate);
  const seconds = Number(values.seconds);
  const changes = Number(values.changes);
  const root = `bench${randomBytes(4).toString('hex')}`;
  const dbName = `fc_bench_discovery_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  const dbUrl = new URL(PG_URL);
  dbUrl.pathname = `/${dbName}`;
  const [gwPort, dnsPort] = await Promise.all([freePort(), freePort()]);
  const gateway = `http://127.0.0.1:${gwPort}`;
  const env = { NATS_URL, DATABASE_URL: dbUrl.toString(), FLEET_SUBJECT_ROOT: root, LOG_LEVEL: 'warn' };
  const children = [
    startService('discovery', { ...env, DNS_PORT: String(dnsPort), FLEET_SELF_REGISTER: 'false' }),
    startService('gateway', { ...env, PORT: String(gwPort), HOST: '127.0.0.1', FLEET_ADMIN_TOKEN: ADMIN, READY_SERVICES: 'discovery', FLEET_SELF_REGISTER: 'false' }),
  ];
  const bus = await MessageBus.connect({ url: NATS_URL, name: 'bench-discovery', subjectRoot: root, service: 'bench' });
  const auth = { authorization: `Bearer ${ADMIN}` };
  const service = (i: number) => `svc-${String(i % names).padStart(3, '0')}`;

  try {
    await until('gateway and discovery', async () => (await fetch(`${gateway}/readyz`)).status === 200);
    console.log(`discovery benchmark: ${nodes} nodes × ${perNode} services = ${nodes * perNode} instances over ${names} names`);

    // 1. catalog
    const t0 = performance.now();
    const nodeId = (n: number) => `bench-${String(n).padStart(5, '0')}`;
    const registrations: Promise<unknown>[] = [];
    for (let n = 0; n < nodes; n++) {
      const body: AgentRegister = {
        v: 1,
        group: `g${n % 5}`,
        services: Array.from({ length: perNode }, (_, s) => ({
          id: `s${s}`,
          name: service(n * perNode + s),
          address: `10.${(n >> 8) & 255}.${n & 255}.${s + 1}`,
          port: 8000 + s,
          tags: [s % 2 ? 'odd' : 'even'],
          checks: [{ type: 'http' as const, id: 'h', url: 'http://127.0.0.1/health' }],
        })),
      };
      registrations.push(bus.request(bus.subjects.agent(nodeId(n), 'discovery.register'), body, 30_000));
      if (registrations.length >= 50) await Promise.all(registrations.splice(0));
    }
    await Promise.all(registrations);
    const registered = performance.now() - t0;
    const at = new Date().toISOString();
    for (let n = 0; n < nodes; n++) {
      const report: AgentDiscoveryReport = {
        v: 1,
        kind: 'summary',
        checks: Array.from({ length: perNode }, (_, s) => ({ serviceId: `s${s}`, checkId: 'h', status: 'passing' as const, output: 'ok', at })),
      };
      await bus.js.publish(bus.subjects.agentReport(nodeId(n), 'discovery'), encodeJson(report), { msgID: `${nodeId(n)}-init` });
    }
    await until('every instance passing', async () => {
      const res = await fetch(`${gateway}/api/v1/services`, { headers: auth });
      const body = (await res.json()) as { services: Array<{ counts: { passing: number } }> };
      return body.services.reduce((a, s) => a + s.counts.passing, 0) === nodes * perNode;
    }, 120_000);
    const passing = performance.now() - t0;
    console.log(`  registered ${nodes * perNode} instances in ${(registered / 1000).toFixed(1)} s; all passing after ${(passing / 1000).toFixed(1)} s`);

    // 2. queries: service time one at a time, then at a fixed rate
    const serial = async (n: number, fn: (i: number) => Promise<void>) => {
      const out: number[] = [];
      for (let i = 0; i < n; i++) {
        const t = performance.now();
        await fn(i);
        out.push(performance.now() - t);
      }
      return out;
    };
    const httpOnce = async (i: number) => {
      const res = await fetch(`${gateway}/api/v1/services/${service(i)}?passing`, { headers: auth });
      if (res.status !== 200) throw new Error(String(res.status));
      await res.arrayBuffer();
    };
    const natsOnce = async (i: number) =>
      void (await bus.request(bus.subjects.svc('discovery', 'instances'), { service: service(i), passingOnly: true }, 10_000));
    console.log(`
service time, one request at a time (load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} on ${cpus().length} cores)`);
    console.log(stats('NATS discovery.instances', await serial(200, natsOnce)));
    console.log(stats('gateway GET /api/v1/services/<name>?passing', await serial(200, httpOnce)));
    const probe = await (await fetch(`${gateway}/api/v1/services/${service(0)}?passing`, { headers: auth })).text();
    console.log(`\nqueries at ${rate}/s for ${seconds} s each (one service's passing instances: ${(JSON.parse(probe) as InstancesReply).instances.length} instances, ${Math.round(probe.length / 1024)} KiB)`);
    const healthz = await fixedRate(rate, seconds, async () => void (await (await fetch(`${gateway}/healthz`)).arrayBuffer()));
    console.log(stats('baseline: gateway GET /healthz', healthz.latencies));
    const natsQ = await fixedRate(rate, seconds, natsOnce);
    console.log(stats('baseline: NATS discovery.instances (no HTTP)', natsQ.latencies));
    const httpQ = await fixedRate(rate, seconds, httpOnce);
    console.log(stats('gateway GET /api/v1/services/<name>?passing', httpQ.latencies));
    if (healthz.errors + natsQ.errors + httpQ.errors > 0) console.log(`  errors: ${healthz.errors + natsQ.errors + httpQ.errors}`);

    // 3. watches: events, HTTP blocking queries (one per service), NATS blocking queries
    const changedAt = new Map<string, number>(); // `${instanceId}:${status}` → report time
    const eventDelays: number[] = [];
    const httpDelays: number[] = [];
    const natsDelays: number[] = [];
    bus.nc.subscribe(bus.subjects.event('discovery', 'service.*'), {
      callback: (_e, msg) => {
        const now = performance.now();
        const data = msg.json<{ data: ServiceChangedEvent }>().data;
        for (const c of data.changes) {
          const t = changedAt.get(`${c.instanceId}:${c.instance?.health}`);
          if (t !== undefined) eventDelays.push(now - t);
        }
      },
    });
    let watching = true;
    const seen = new Map<string, Map<string, string>>();
    const delaysFrom = (svc: string, reply: InstancesReply, into: number[], key: string) => {
      const now = performance.now();
      const before = seen.get(key);
      const after = new Map(reply.instances.map((i) => [i.id, i.health]));
      seen.set(key, after);
      if (!before) return;
      for (const [id, health] of after) {
        if (before.get(id) === health) continue;
        const t = changedAt.get(`${id}:${health}`);
        if (t !== undefined) into.push(now - t);
      }
      void svc;
    };
    const httpWatch = async (svc: string) => {
      let index = 0;
      while (watching) {
        try {
          const res = await fetch(`${gateway}/api/v1/services/${svc}?index=${index}&wait=10s`, { headers: auth });
          const reply = (await res.json()) as InstancesReply;
          delaysFrom(svc, reply, httpDelays, `http:${svc}`);
          index = reply.index;
        } catch {
          await sleep(100);
        }
      }
    };
    const natsWatch = async (svc: string) => {
      let index = 0;
      while (watching) {
        try {
          const reply = await bus.request<InstancesReply>(bus.subjects.svc('discovery', 'instances'), { service: svc, index, waitMs: 10_000 }, 15_000);
          delaysFrom(svc, reply, natsDelays, `nats:${svc}`);
          index = reply.index;
        } catch {
          await sleep(100);
        }
      }
    };
    const watchers = [
      ...Array.from({ length: names }, (_, i) => httpWatch(service(i))),
      ...Array.from({ length: names }, (_, i) => natsWatch(service(i))),
    ];
    await sleep(2000);
    const state = new Map<string, 'passing' | 'critical'>();
    console.log(`\nhealth changes: ${changes}, one every 50 ms, each an agent's JetStream transition report`);
    for (let k = 0; k < changes; k++) {
      const n = Math.floor(Math.random() * nodes);
      const s = Math.floor(Math.random() * perNode);
      const id = `${nodeId(n)}:s${s}`;
      const next = state.get(id) === 'critical' ? 'passing' : 'critical';
      state.set(id, next);
      changedAt.set(`${id}:${next}`, performance.now());
      const report: AgentDiscoveryReport = {
        v: 1,
        kind: 'transition',
        checks: [{ serviceId: `s${s}`, checkId: 'h', status: next, output: next, at: new Date().toISOString() }],
      };
      await bus.js.publish(bus.subjects.agentReport(nodeId(n), 'discovery'), encodeJson(report), { msgID: `${id}-${k}` });
      await sleep(50);
    }
    await sleep(2000);
    watching = false;
    console.log(stats('report → event on events.discovery.service.<name>', eventDelays));
    console.log(stats('report → gateway HTTP blocking query returns', httpDelays));
    console.log(stats('report → NATS blocking query returns', natsDelays));
    const p99 = Math.max(percentile(eventDelays, 99), percentile(httpDelays, 99));
    console.log(`load average at the end: ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
    console.log(`\ntarget: health change visible to watchers in < 1 s at p99 → ${p99 < 1000 ? 'met' : 'MISSED'} (${ms(p99)})`);
    void Promise.allSettled(watchers);
  } finally {
    await bus.drain().catch(() => undefined);
    for (const c of children) c.kill('SIGTERM');
    await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r)))));
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch(() => undefined);
    await admin.end();
    const { jetstreamManager } = await import('@nats-io/jetstream');
    const { connect } = await import('@nats-io/transport-node');
    const nc = await connect({ servers: NATS_URL });
    const jsm = await jetstreamManager(nc);
    for await (const info of jsm.streams.list()) {
      if (info.config.name.startsWith(`${root.toUpperCase()}_`)) await jsm.streams.delete(info.config.name).catch(() => undefined);
    }
    await nc.close();
  }
}

run().then(
  () => process.exit(0),
  (err: Error) => {
    console.error(`bench:discovery failed: ${err.stack ?? err.message}`);
    process.exit(1);
  },
);
