import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Resolver } from 'node:dns/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '@nats-io/transport-node';
import { ensureLocalInfra, type LocalInfra } from '../../apps/fleetcore/src/local-infra.js';
import { TEST_NATS_URL, createTestDatabase, deleteStreams, eventually, testSubjectRoot } from '../support/infra.js';
import { REPO, freePort, spawnNode, stopProcess, type SpawnedProcess } from '../support/processes.js';

const run = promisify(execFile);

/** The first of `count` consecutive free loopback ports (each checked by binding it). */
async function freePortRun(count: number): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const base = await freePort();
    if (base + count > 65_535) continue;
    const free = await Promise.all(Array.from({ length: count }, (_, i) => canBind(base + i)));
    if (free.every(Boolean)) return base;
  }
  throw new Error(`no ${count} consecutive free ports`);
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * `npm start -- --demo 5` as a newcomer runs it: `fleetcore up` starts every service as its own
 * supervised process plus five simulated agents; the fleet is then seen through the HTTP gateway
 * and the real fleetctl, and SIGTERM takes the whole tree down cleanly.
 */
describe('fleetcore up --demo', () => {
  const root = testSubjectRoot();
  let db: { url: string; drop: () => Promise<void> };
  let platform: SpawnedProcess;
  let port: number;
  let dnsPort: number;
  let stateDir: string;
  let token: string;
  let metricsBase: number;
  const metricsToken = 'e2e-metrics-token-0123456789';

  beforeAll(async () => {
    db = await createTestDatabase();
    port = await freePort();
    dnsPort = await freePort();
    metricsBase = await freePortRun(4);
    stateDir = mkdtempSync(join(tmpdir(), 'fleetcore-up-'));
    platform = spawnNode(['bin/fleetcore.js', 'up', '--demo', '5', '--state-dir', stateDir], {
      NATS_URL: TEST_NATS_URL,
      DATABASE_URL: db.url,
      FLEET_SUBJECT_ROOT: root,
      FLEET_ADMIN_TOKEN: undefined,
      PORT: String(port),
      DNS_PORT: String(dnsPort),
      HEARTBEAT_INTERVAL_SECONDS: '2',
      METRICS_PORT: String(metricsBase),
      METRICS_TOKEN: metricsToken,
    });
    await eventually(() => platform.output().includes('fleetctl: export'), 60_000);
    token = readFileSync(join(stateDir, 'admin-token'), 'utf8').trim();
  });

  afterAll(async () => {
    await stopProcess(platform?.child, 20_000);
    await db?.drop();
    await deleteStreams(root);
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('becomes ready with every service answering', async () => {
    const ready = await eventually(async () => {
      const res = await fetch(`http://127.0.0.1:${port}/readyz`);
      return res.status === 200 ? ((await res.json()) as Record<string, unknown>) : undefined;
    }, 60_000, 500);
    expect(JSON.stringify(ready)).toMatch(/inventory/);
  });

  it('shows the five demo agents online through the gateway and fleetctl', async () => {
    const env = { ...process.env, FLEETCTL_SERVER: `http://127.0.0.1:${port}`, FLEETCTL_TOKEN: token };
    const nodes = await eventually(async () => {
      const { stdout } = await run(process.execPath, ['bin/fleetctl.js', 'nodes', 'ls', '--status', 'online', '-o', 'json'], { cwd: REPO, env });
      const parsed = JSON.parse(stdout) as { id: string }[] | { items: { id: string }[] };
      const list = Array.isArray(parsed) ? parsed : parsed.items;
      return list.length === 5 ? list : undefined;
    }, 60_000, 500);
    expect(nodes.map((n) => n.id).sort()).toEqual(['sim-1', 'sim-2', 'sim-3', 'sim-4', 'sim-5']);

    const { stdout: status } = await run(process.execPath, ['bin/fleetctl.js', 'fleet', 'status'], { cwd: REPO, env });
    expect(status).toMatch(/online/i);
    expect(status).toMatch(/5/);
  });

  it('lists the control plane itself among the services, and answers for it over DNS', async () => {
    const env = { ...process.env, FLEETCTL_SERVER: `http://127.0.0.1:${port}`, FLEETCTL_TOKEN: token };
    const names = await eventually(async () => {
      const { stdout } = await run(process.execPath, ['bin/fleetctl.js', 'services', 'ls', '-o', 'json'], { cwd: REPO, env });
      const parsed = JSON.parse(stdout) as { services: { name: string; counts: { passing: number } }[] };
      const passing = parsed.services.filter((s) => s.counts.passing > 0).map((s) => s.name).sort();
      return ['config', 'discovery', 'gateway', 'inventory', 'updater'].every((n) => passing.includes(n)) ? passing : undefined;
    }, 30_000, 500);
    expect(names).toEqual(expect.arrayContaining(['config', 'discovery', 'gateway', 'inventory', 'updater']));
    const resolver = new Resolver();
    resolver.setServers([`127.0.0.1:${dnsPort}`]);
    const srv = await resolver.resolveSrv('_gateway._tcp.service.fleet');
    expect(srv.map((r) => r.port)).toContain(port);
  });

  it('gives each backend its own metrics port from METRICS_PORT, behind METRICS_TOKEN', async () => {
    expect(platform.output()).toContain(`metrics:  inventory :${metricsBase}, updater :${metricsBase + 1}, config :${metricsBase + 2}, discovery :${metricsBase + 3}`);
    for (let i = 0; i < 4; i++) {
      const url = `http://127.0.0.1:${metricsBase + i}`;
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      expect((await fetch(`${url}/metrics`)).status).toBe(401);
      const metrics = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${metricsToken}` } });
      expect(metrics.status).toBe(200);
      expect(await metrics.text()).toMatch(/^# HELP /m);
    }
  });

  it('rejects the API without the admin token', async () => {
    const res = await fetch(`http://127.0.0.1:${port}/api/v1/nodes`);
    expect(res.status).toBe(401);
  });

  it('restarts a service process that dies', async () => {
    const inventoryPid = await eventually(async () => {
      const { stdout } = await run('pgrep', ['-f', `-P`, String(platform.child.pid), 'inventory/src/main.js']).catch(() => ({ stdout: '' }));
      return Number(stdout.trim().split('\n')[0]) || undefined;
    }, 10_000);
    process.kill(inventoryPid, 'SIGKILL');
    await eventually(() => /inventory exited .*restarting/.test(platform.output()), 10_000);
    await eventually(async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200, 30_000, 500);
  });

  it('stops every process on SIGTERM', async () => {
    const pid = platform.child.pid!;
    const code = await stopProcess(platform.child, 20_000);
    expect(code).toBe(0);
    const { stdout } = await run('pgrep', ['-P', String(pid)]).catch(() => ({ stdout: '' }));
    expect(stdout.trim()).toBe('');
  });
});

/**
 * On a fresh machine nothing answers on the default ports, so the launcher starts its own NATS
 * and PostgreSQL from the binaries on PATH. Run on spare ports beside the machine's servers.
 */
describe('private NATS and PostgreSQL for a fresh machine', () => {
  let infra: LocalInfra | undefined;
  let stateDir: string;

  beforeAll(async () => {
    stateDir = mkdtempSync(join(tmpdir(), 'fleetcore-infra-'));
  });
  afterAll(async () => {
    for (const child of infra?.children ?? []) await stopProcess(child);
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('starts nats-server -js and an initialised PostgreSQL under the state directory', async () => {
    const natsPort = await freePort();
    const pgPort = await freePort();
    const saved = { ...process.env };
    process.env.FLEETCORE_NATS_PORT = String(natsPort);
    process.env.FLEETCORE_PG_PORT = String(pgPort);
    delete process.env.NATS_URL;
    delete process.env.DATABASE_URL;
    try {
      infra = await ensureLocalInfra(stateDir);
    } finally {
      process.env = saved;
    }
    expect(infra.natsUrl).toBe(`nats://127.0.0.1:${natsPort}`);
    const nc = await connect({ servers: infra.natsUrl });
    expect((await nc.rtt()) >= 0).toBe(true);
    await nc.close();
    const client = new pg.Client({ connectionString: infra.databaseUrl.replace(/\/fleetcore$/, '/postgres') });
    await client.connect();
    const { rows } = await client.query('SELECT current_setting($1) AS port', ['port']);
    expect(Number(rows[0].port)).toBe(pgPort);
    await client.end();
  });
});
