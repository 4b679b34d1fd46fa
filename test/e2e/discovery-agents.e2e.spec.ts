import { execFile } from 'node:child_process';
import { Resolver } from 'node:dns/promises';
import { createServer as createHttpServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import dnsPacket from 'dns-packet';
import type { InstanceView, InstancesReply } from '#contracts/discovery';
import { TEST_NATS_URL, createTestDatabase, deleteStreams, eventually, testSubjectRoot } from '../support/infra.js';
import { freePort, startScript, stopProcess, type SpawnedProcess as Proc } from '../support/processes.js';

const start = (script: string, args: string[], env: Record<string, string> = {}): Proc => startScript(join(repo, script), args, env);
const stop = (child: Proc['child'] | undefined, signal: NodeJS.Signals = 'SIGTERM') => stopProcess(child, 5000, signal);

/**
 * The built platform with real processes: inventory, discovery and gateway from dist/, two
 * `fleet-agent run` processes whose service definition files name a real local HTTP service.
 */
const repo = resolve(import.meta.dirname, '../..');
const ADMIN = `fct_e2e-discovery-${'d'.repeat(40)}`;





describe('discovery end to end: agents, checks, node offline, blocking queries, DNS', () => {
  const root = testSubjectRoot();
  const dir = mkdtempSync(join(tmpdir(), 'fleet-e2e-discovery-'));
  const procs = new Map<string, Proc>();
  let dropDb: () => Promise<void>;
  let server = '';
  let dnsPort = 0;
  let appPort = 0;
  let app: Server | undefined;
  const resolver = new Resolver({ timeout: 2000, tries: 1 });

  const api = async <T>(path: string, init: RequestInit = {}): Promise<{ status: number; body: T; index: number }> => {
    const res = await fetch(`${server}${path}`, { ...init, headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json', ...init.headers } });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T, index: Number(res.headers.get('x-fleet-index')) };
  };
  const instance = async (service: string, id: string): Promise<InstanceView | undefined> =>
    (await api<InstancesReply>(`/api/v1/services/${service}`)).body.instances?.find((i) => i.id === id);
  const startApp = () =>
    new Promise<void>((r) => {
      app = createHttpServer((_req, res) => res.end('ok'));
      app.listen(appPort, '127.0.0.1', () => r());
    });
  const stopApp = () =>
    new Promise<void>((r) => {
      app!.closeAllConnections();
      app!.close(() => r());
    });

  const agentConfig = (nodeId: string, services: unknown[], ttlPort?: number) => {
    const servicesDir = join(dir, nodeId, 'services.d');
    mkdirSync(servicesDir, { recursive: true });
    services.forEach((s, i) => writeFileSync(join(servicesDir, `svc-${i}.json`), JSON.stringify(s)));
    const file = join(dir, `${nodeId}.json`);
    writeFileSync(
      file,
      JSON.stringify({
        natsUrl: TEST_NATS_URL,
        subjectRoot: root,
        nodeId,
        dataDir: join(dir, nodeId, 'data'),
        group: 'e2e',
        labels: { role: nodeId },
        hostname: `${nodeId}.e2e`,
        heartbeatIntervalSeconds: 0.5,
        logLevel: 'warn',
        updates: { enabled: false },
        discovery: { servicesDir, advertiseAddress: '127.0.0.1', summaryIntervalSeconds: 5, ...(ttlPort ? { ttlListen: `127.0.0.1:${ttlPort}` } : {}) },
      }),
    );
    return file;
  };
  let ttlPort = 0;
  const startAgent = (nodeId: string, file: string) => procs.set(nodeId, start('dist/apps/agent/src/cli.js', ['run', '--config', file]));

  beforeAll(async () => {
    const db = await createTestDatabase();
    dropDb = db.drop;
    const [gwPort, dns, appP, ttlP] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
    server = `http://127.0.0.1:${gwPort}`;
    dnsPort = dns;
    appPort = appP;
    ttlPort = ttlP;
    resolver.setServers([`127.0.0.1:${dnsPort}`]);
    await startApp();
    const env = { NATS_URL: TEST_NATS_URL, DATABASE_URL: db.url, FLEET_SUBJECT_ROOT: root, LOG_LEVEL: 'warn' };
    procs.set('inventory', start('dist/apps/inventory/src/main.js', [], { ...env, HEARTBEAT_INTERVAL_SECONDS: '0.5', HEARTBEAT_FLUSH_MS: '100', LEADER_RETRY_MS: '500' }));
    procs.set('discovery', start('dist/apps/discovery/src/main.js', [], { ...env, DNS_PORT: String(dnsPort), DISCOVERY_SWEEP_MS: '200', DISCOVERY_LEADER_RETRY_MS: '500' }));
    procs.set('gateway', start('dist/apps/gateway/src/main.js', [], { ...env, PORT: String(gwPort), HOST: '127.0.0.1', FLEET_ADMIN_TOKEN: ADMIN, READY_SERVICES: 'inventory,discovery' }));
    await eventually(async () => (await fetch(`${server}/readyz`)).status === 200, 45_000, 250).catch((err: Error) => {
      throw new Error(`${err.message}\n${[...procs].map(([k, p]) => `${k}: ${p.output()}`).join('\n')}`);
    });
    const web = {
      name: 'web',
      port: appPort,
      tags: ['http'],
      checks: [{ type: 'http', url: `http://127.0.0.1:${appPort}/health`, interval: '500ms', timeout: '400ms', failuresBeforeCritical: 2 }],
    };
    startAgent('e2e-a', agentConfig('e2e-a', [web, { name: 'worker', port: 0, checks: [{ type: 'ttl', id: 'beat', ttl: '30s' }] }], ttlPort));
    startAgent('e2e-b', agentConfig('e2e-b', [{ name: 'cache', port: appPort, checks: [{ type: 'tcp', tcp: `127.0.0.1:${appPort}`, interval: '500ms', deregisterCriticalAfter: '3s' }] }]));
  });

  afterAll(async () => {
    for (const p of procs.values()) await stop(p.child, 'SIGKILL');
    if (app?.listening) await stopApp();
    await deleteStreams(root);
    await dropDb?.();
    rmSync(dir, { recursive: true, force: true });
  });

  it('registers the services defined on each machine, which pass', async () => {
    const web = await eventually(async () => {
      const i = await instance('web', 'e2e-a:web');
      return i?.health === 'passing' ? i : undefined;
    }, 30_000).catch((err: Error) => {
      throw new Error(`${err.message}\n${procs.get('e2e-a')?.output()}\n${procs.get('discovery')?.output()}`);
    });
    expect(web).toMatchObject({ nodeId: 'e2e-a', group: 'e2e', address: '127.0.0.1', port: appPort, tags: ['http'], source: 'agent' });
    await eventually(async () => (await instance('cache', 'e2e-b:cache'))?.health === 'passing', 20_000);
    const list = await api<{ services: Array<{ name: string; counts: Record<string, number> }> }>('/api/v1/services');
    expect(list.body.services.map((s) => s.name)).toEqual(expect.arrayContaining(['web', 'cache', 'worker', 'discovery']));
  });

  it('lists, shows, registers, reports and deregisters through fleetctl', async () => {
    const fleetctl = (...args: string[]) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((res) =>
        execFile(
          process.execPath,
          [join(repo, 'dist/apps/cli/src/main.js'), ...args],
          { env: { PATH: process.env.PATH, FLEETCTL_SERVER: server, FLEETCTL_TOKEN: ADMIN }, timeout: 20_000 },
          (err, stdout, stderr) => res({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
        ),
      );
    const ls = await fleetctl('services', 'ls');
    expect(ls.code).toBe(0);
    expect(ls.stdout).toMatch(/^NAME\s+INSTANCES\s+PASSING\s+WARNING\s+CRITICAL\s+TAGS/);
    expect(ls.stdout).toMatch(/\nweb\s+1\s+1\s+0\s+0\s+http/);
    expect(ls.stdout).toMatch(/\ndiscovery\s+1\s+1/);
    const show = await fleetctl('services', 'show', 'web', 'e2e-a:web');
    expect(show.stdout).toMatch(/Health:\s+passing/);
    expect(show.stdout).toMatch(/http-1\s+http\s+passing/);
    const reg = await fleetctl('services', 'register', '--name', 'pg', '--address', '10.9.9.9', '--port', '5432', '--ttl', '30s');
    expect(reg.stdout).toContain('registered pg@10.9.9.9:5432 (pg, critical)');
    expect((await fleetctl('services', 'check', 'pg', 'pg@10.9.9.9:5432', 'ttl', 'pass', '--note', 'replica lag 0 s')).stdout).toContain('passing');
    const shown = await fleetctl('services', 'show', 'pg', 'pg@10.9.9.9:5432');
    expect(shown.stdout).toContain('replica lag 0 s');
    const json = JSON.parse((await fleetctl('services', 'show', 'pg', '--passing', '-o', 'json')).stdout) as InstancesReply;
    expect(json.instances.map((i) => i.id)).toEqual(['pg@10.9.9.9:5432']);
    expect((await fleetctl('services', 'deregister', 'pg', 'pg@10.9.9.9:5432')).stdout).toContain('deregistered');
    const missing = await fleetctl('services', 'show', 'pg', 'pg@10.9.9.9:5432');
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/no instance/);
  });

  it('turns critical within the interval plus threshold when the service stops, and passing when it restarts', async () => {
    const fleetctl = execFile(process.execPath, [join(repo, 'dist/apps/cli/src/main.js'), 'services', 'watch', 'web', '--count', '2', '--wait', '10s'], {
      env: { PATH: process.env.PATH, FLEETCTL_SERVER: server, FLEETCTL_TOKEN: ADMIN },
      timeout: 30_000,
    });
    let watched = '';
    fleetctl.stdout!.on('data', (d) => (watched += String(d)));
    const watchDone = new Promise((r) => fleetctl.once('exit', r));
    await eventually(() => watched.includes('e2e-a:web'), 10_000);
    await stopApp();
    const stoppedAt = Date.now();
    const critical = await eventually(async () => {
      const i = await instance('web', 'e2e-a:web');
      return i?.health === 'critical' ? i : undefined;
    }, 10_000);
    // Two failures 500 ms apart (the first within one interval), then delivery: well under 3 s.
    expect(Date.now() - stoppedAt).toBeLessThan(3000);
    expect(critical.checks[0].output).toMatch(/ECONNREFUSED|timed out/);
    await startApp();
    await eventually(async () => (await instance('web', 'e2e-a:web'))?.health === 'passing', 10_000);
    await watchDone;
    expect(watched).toMatch(/e2e-a:web {2}passing → critical/);
    expect(watched).toMatch(/e2e-a:web {2}critical → passing/);
  });

  it('answers a blocking query within a second of a TTL check reported on the agent', async () => {
    const { index } = await api<InstancesReply>('/api/v1/services/worker');
    const blocked = api<InstancesReply>(`/api/v1/services/worker?index=${index}&wait=20s`).then((r) => ({ ...r, at: Date.now() }));
    await new Promise((r) => setTimeout(r, 300));
    const reportedAt = Date.now();
    const put = await fetch(`http://127.0.0.1:${ttlPort}/v1/check/worker/beat/pass`, { method: 'PUT', body: 'working' });
    expect(put.status).toBe(204);
    const reply = await blocked;
    expect(reply.at - reportedAt).toBeLessThan(1000);
    expect(reply.index).toBeGreaterThan(index);
    expect(reply.body.instances[0]).toMatchObject({ id: 'e2e-a:worker', health: 'passing' });
  });

  it('answers DNS A and SRV queries from a real resolver, over UDP and TCP', async () => {
    expect(await resolver.resolve4('web.service.fleet')).toEqual(['127.0.0.1']);
    expect(await resolver.resolve4('http.web.service.fleet')).toEqual(['127.0.0.1']);
    const srv = await resolver.resolveSrv('_web._tcp.service.fleet');
    expect(srv).toEqual([expect.objectContaining({ port: appPort, name: '7f000001.addr.fleet' })]);
    await expect(resolver.resolve4('nope.service.fleet')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    const socket = connect(dnsPort, '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    const reply = new Promise<Buffer>((r) => socket.once('data', r));
    socket.write(dnsPacket.streamEncode({ type: 'query', id: 5, questions: [{ type: 'SRV', name: '_cache._tcp.service.fleet' }] }));
    const decoded = dnsPacket.streamDecode(await reply);
    socket.destroy();
    expect(decoded.answers).toEqual([expect.objectContaining({ type: 'SRV', data: expect.objectContaining({ port: appPort }) })]);
  });

  it('turns a killed agent\'s instances critical when its node goes offline, then deregisters them', async () => {
    await stop(procs.get('e2e-b')!.child, 'SIGKILL');
    const killedAt = Date.now();
    const offline = await eventually(async () => {
      const i = await instance('cache', 'e2e-b:cache');
      return i?.nodeOffline ? i : undefined;
    }, 15_000);
    expect(offline.health).toBe('critical');
    await expect(resolver.resolve4('cache.service.fleet')).rejects.toMatchObject({ code: expect.stringMatching(/ENODATA|ENOTFOUND/) });
    await eventually(async () => (await instance('cache', 'e2e-b:cache')) === undefined, 15_000);
    // Offline after ~1.5 s of silence, then 3 s critical before the reaper removes it.
    expect(Date.now() - killedAt).toBeGreaterThanOrEqual(3000);
    expect((await instance('web', 'e2e-a:web'))?.health).toBe('passing');
  });
});
