/**
 * Measures the simulator at scale against a real inventory running as its own process:
 *   npm run build && node dist/apps/agent/src/simulator/measure-simulator.js [--nodes 10000] [--steady 30]
 * (`--features none` measures the agent core alone.) Reports time until every node is registered
 * and until the inventory counts all of them online, and the simulator's RSS and CPU (baseline before any node starts, at full fleet, and
 * over a steady heartbeating window), plus the inventory's CPU over the same window.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import type { FleetSummary } from '#contracts/inventory';
import { MessageBus } from '#lib/messaging';
import { agentFeatures } from '../features/index.js';
import { startSimulator } from './simulator.js';

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '10000' },
    steady: { type: 'string', default: '30' },
    /** `registered`: the features in features/index.ts; `none`: the agent core only. */
    features: { type: 'string', default: 'registered' },
    'nats-url': { type: 'string', default: process.env.NATS_URL ?? 'nats://127.0.0.1:4222' },
    'database-url': { type: 'string', default: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' },
  },
});
const nodes = Number(values.nodes);
const steadySeconds = Number(values.steady);
const natsUrl = values['nats-url']!;
const root = `bench${randomBytes(4).toString('hex')}`;
const dbName = `fc_agent_bench_${randomBytes(4).toString('hex')}`;
const adminUrl = values['database-url']!;
const dbUrl = Object.assign(new URL(adminUrl), { pathname: `/${dbName}` }).toString();
const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
const say = (line: string) => process.stdout.write(`${line}\n`);

function procCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks
}
const selfCpu = () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1e6;
};

async function sql(url: string, text: string): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  await c.query(text).finally(() => c.end());
}

async function main(): Promise<void> {
  await sql(adminUrl, `CREATE DATABASE ${dbName}`);
  const repo = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../../../..');
  const inventory = spawn(process.execPath, [join(repo, 'dist/apps/inventory/src/main.js')], {
    env: { ...process.env, NATS_URL: natsUrl, DATABASE_URL: dbUrl, FLEET_SUBJECT_ROOT: root, LOG_LEVEL: 'warn', METRICS_PORT: '0' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const client = await MessageBus.connect({ url: natsUrl, name: 'measure', subjectRoot: root, service: 'measure' });
  const dataDir = join(tmpdir(), `fleet-sim-measure-${process.pid}`);
  try {
    for (let i = 0; ; i++) {
      try {
        await client.request(client.subjects.svc('inventory', 'ping'), {}, 500);
        break;
      } catch {
        if (i > 120) throw new Error('inventory did not start');
        await new Promise((r) => setTimeout(r, 250));
      }
    }
    const summary = () => client.request<FleetSummary>(client.subjects.svc('inventory', 'summary'), {}, 10_000);

    global.gc?.();
    const baseline = { rss: process.memoryUsage().rss, cpu: selfCpu() };
    say(`nodes=${nodes} subjectRoot=${root} baseline simulator rss=${mib(baseline.rss)}`);

    const t0 = Date.now();
    const cpu0 = selfCpu();
    const sim = await startSimulator({
      nodes,
      natsUrl,
      subjectRoot: root,
      dataDir,
      features: values.features === 'none' ? [] : undefined,
    });
    await sim.allRegistered();
    const registeredMs = Date.now() - t0;
    say(`all ${nodes} registered after ${(registeredMs / 1000).toFixed(1)} s`);
    let s: FleetSummary;
    for (;;) {
      s = await summary();
      if ((s.byStatus.online ?? 0) >= nodes) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    const onlineMs = Date.now() - t0;
    const startupCpu = selfCpu() - cpu0;
    const rssFull = process.memoryUsage().rss;
    say(`all ${nodes} online in the inventory after ${(onlineMs / 1000).toFixed(1)} s (simulator cpu during start-up ${startupCpu.toFixed(1)} s)`);

    const w0 = { at: Date.now(), cpu: selfCpu(), inv: procCpuSeconds(inventory.pid!), hb: sim.stats().heartbeats };
    await new Promise((r) => setTimeout(r, steadySeconds * 1000));
    const w1 = { at: Date.now(), cpu: selfCpu(), inv: procCpuSeconds(inventory.pid!), hb: sim.stats().heartbeats };
    const secs = (w1.at - w0.at) / 1000;
    const stats = sim.stats();
    const after = await summary();
    const result = {
      nodes,
      features: values.features === 'none' ? [] : agentFeatures.map((f) => f().name),
      registeredSeconds: +(registeredMs / 1000).toFixed(1),
      onlineSeconds: +(onlineMs / 1000).toFixed(1),
      baselineRssMiB: +(baseline.rss / 2 ** 20).toFixed(0),
      fullFleetRssMiB: +(rssFull / 2 ** 20).toFixed(0),
      steadyRssMiB: +(stats.rssBytes / 2 ** 20).toFixed(0),
      perNodeKiB: +((stats.rssBytes - baseline.rss) / nodes / 1024).toFixed(1),
      startupCpuSeconds: +startupCpu.toFixed(1),
      steadySimulatorCpuPercent: +((100 * (w1.cpu - w0.cpu)) / secs).toFixed(1),
      steadyInventoryCpuPercent: +((100 * (w1.inv - w0.inv)) / secs).toFixed(1),
      heartbeatsPerSecond: +((w1.hb - w0.hb) / secs).toFixed(0),
      helloFailures: stats.helloFailures,
      onlineAfterWindow: after.byStatus.online ?? 0,
      offlineAfterWindow: after.byStatus.offline ?? 0,
    };
    say(JSON.stringify(result, null, 2));
    await sim.stop();
  } finally {
    inventory.kill('SIGTERM');
    await new Promise((r) => inventory.once('exit', r));
    await client.drain().catch(() => undefined);
    await rm(dataDir, { recursive: true, force: true });
    await sql(adminUrl, `DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch(() => undefined);
    // The inventory's JetStream streams for this private root
    const { jetstreamManager } = await import('@nats-io/jetstream');
    const { connect } = await import('@nats-io/transport-node');
    const nc = await connect({ servers: natsUrl });
    const jsm = await jetstreamManager(nc);
    for await (const info of jsm.streams.list()) {
      if (info.config.name.startsWith(`${root.toUpperCase()}_`)) await jsm.streams.delete(info.config.name).catch(() => undefined);
    }
    await nc.close();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`measure-simulator: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
