import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeView } from '#contracts/inventory';
import { MessageBus } from '#lib/messaging';
import { TEST_NATS_URL, createTestDatabase, deleteStreams, eventually, testSubjectRoot } from '../support/infra.js';
import { exited, freePort, startScript as start, stopProcess, type SpawnedProcess as Proc } from '../support/processes.js';

const stop = (child: Proc['child'] | undefined) => stopProcess(child, 0, 'SIGKILL');

/**
 * Real `fleet-agent run` processes with the `ab` backend, updated by the built platform
 * (inventory, updater and gateway as their own processes from dist/): the payload is served over
 * local HTTP, the release is signed with `fleetctl keys gen` + `releases create --key`, and an
 * agent "reboots" by exiting with the restart code, which a tiny supervisor here answers by
 * starting it again, as systemd would.
 */
const repo = resolve(import.meta.dirname, '../..');
const dist = (p: string) => join(repo, 'dist', p);
const ADMIN = `fct_e2e-updates-${'u'.repeat(40)}`;
const RESTART_EXIT_CODE = 75;
const ARCH = process.arch === 'arm64' ? 'aarch64' : 'x86_64';






/** Restarts the agent whenever it exits with the restart code: what `Restart=` does in systemd. */
class Supervisor {
  restarts = 0;
  private proc: Proc | undefined;
  private log = '';
  private stopped = false;

  constructor(private readonly configFile: string) {}

  start(): void {
    this.proc = start(dist('apps/agent/src/cli.js'), ['run', '--config', this.configFile]);
    const proc = this.proc;
    proc.child.once('exit', (code) => {
      this.log += proc.output();
      if (!this.stopped && code === RESTART_EXIT_CODE) {
        this.restarts++;
        this.start();
      }
    });
  }

  output(): string {
    return this.log + (this.proc?.output() ?? '');
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await stop(this.proc?.child);
  }
}

function run(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  const p = start(dist('apps/cli/src/main.js'), args, env);
  let stdout = '';
  let stderr = '';
  p.child.stdout!.on('data', (d) => (stdout += String(d)));
  p.child.stderr!.on('data', (d) => (stderr += String(d)));
  return exited(p.child).then((code) => ({ code: code ?? -1, stdout, stderr }));
}

describe('A/B updates of real fleet-agent processes', () => {
  const root = testSubjectRoot();
  const dir = mkdtempSync(join(tmpdir(), 'fleet-e2e-updates-'));
  const payloads = new Map<string, Buffer>();
  let payloadRequests = 0;
  let firstRolloutId = '';
  const agents = new Map<string, Supervisor>();
  let dropDb: () => Promise<void>;
  let inventory: Proc;
  let updater: Proc;
  let gateway: Proc;
  let payloadServer: Server;
  let payloadBase = '';
  let api = '';
  let bus: MessageBus;
  let publicKey = '';
  let cliEnv: Record<string, string>;

  const http = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${api}${path}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const json = (await res.json()) as T;
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  const node = async (id: string) => http<NodeView>('GET', `/api/v1/nodes/${id}`);
  const nodeStates = async (rolloutId: string) =>
    (await http<{ items: Array<{ nodeId: string; state: string; code: string | null; message: string | null }> }>('GET', `/api/v1/rollouts/${rolloutId}/nodes`)).items;

  function startAgent(nodeId: string, role: string, healthCommand: string): Supervisor {
    const configFile = join(dir, `${nodeId}.json`);
    writeFileSync(
      configFile,
      JSON.stringify({
        natsUrl: TEST_NATS_URL,
        subjectRoot: root,
        nodeId,
        dataDir: join(dir, nodeId),
        group: 'e2e',
        channel: 'stable',
        labels: { role },
        hostname: `${nodeId}.e2e`,
        os: { name: 'Fleetcore Linux', version: '1.0.0' },
        heartbeatIntervalSeconds: 1,
        logLevel: 'warn',
        updates: {
          trustedKeys: [publicKey],
          rebootMode: 'restart',
          healthChecks: [{ name: 'probe', command: healthCommand, timeoutSeconds: 2 }],
          healthDeadlineSeconds: 1.5,
          healthRetrySeconds: 0.3,
          lockRetrySeconds: 0.5,
          pollSeconds: 5,
        },
      }),
    );
    const s = new Supervisor(configFile);
    agents.set(nodeId, s);
    s.start();
    return s;
  }

  async function publish(version: string, served: Buffer, signed: Buffer = served): Promise<string> {
    payloads.set(`/${version}.raw`, served);
    const file = join(dir, `${version}.raw`);
    writeFileSync(file, signed);
    const out = await run(
      ['releases', 'create', '--version', version, '--arch', ARCH, '--url', `${payloadBase}/${version}.raw`, '--payload', file, '--key', join(dir, 'release.key'), '-o', 'json'],
      cliEnv,
    );
    expect(out.code, out.stderr).toBe(0);
    return (JSON.parse(out.stdout) as { id: string }).id;
  }

  beforeAll(async () => {
    const db = await createTestDatabase();
    dropDb = db.drop;
    payloadServer = createHttpServer((req, res) => {
      payloadRequests++;
      const body = payloads.get(req.url ?? '');
      if (!body) res.writeHead(404).end();
      else res.writeHead(200, { 'content-length': body.length }).end(body);
    });
    await new Promise<void>((r) => payloadServer.listen(0, '127.0.0.1', r));
    payloadBase = `http://127.0.0.1:${(payloadServer.address() as { port: number }).port}`;
    const common = { NATS_URL: TEST_NATS_URL, DATABASE_URL: db.url, FLEET_SUBJECT_ROOT: root, LOG_LEVEL: 'warn', METRICS_PORT: '0' };
    inventory = start(dist('apps/inventory/src/main.js'), [], { ...common, HEARTBEAT_INTERVAL_SECONDS: '1' });
    updater = start(dist('apps/updater/src/main.js'), [], { ...common, UPDATER_TICK_MS: '200', UPDATER_LOCK_RETRY_SECONDS: '0.5', UPDATER_MEMBERS_REFRESH_MS: '1000' });
    const port = await freePort();
    gateway = start(dist('apps/gateway/src/main.js'), [], { ...common, PORT: String(port), HOST: '127.0.0.1', FLEET_ADMIN_TOKEN: ADMIN });
    api = `http://127.0.0.1:${port}`;
    cliEnv = { FLEETCTL_SERVER: api, FLEETCTL_TOKEN: ADMIN };
    bus = await MessageBus.connect({ url: TEST_NATS_URL, name: 'e2e-updates', subjectRoot: root, service: 'e2e' });
    for (const [name, proc] of [['inventory', inventory], ['updater', updater]] as const) {
      await eventually(() => bus.request(bus.subjects.svc(name, 'ping'), {}, 500), 30_000, 200).catch((err) => {
        throw new Error(`${name} did not start: ${(err as Error).message}\n${proc.output()}`);
      });
    }
    await eventually(() => fetch(`${api}/healthz`).then((r) => r.ok), 30_000, 200).catch((err) => {
      throw new Error(`gateway did not start: ${(err as Error).message}\n${gateway.output()}`);
    });
    const keys = await run(['keys', 'gen', '--out', join(dir, 'release')], cliEnv);
    expect(keys.code, keys.stderr).toBe(0);
    publicKey = keys.stdout.trim();
  });

  afterAll(async () => {
    for (const s of agents.values()) await s.stop();
    for (const p of [gateway, updater, inventory]) await stop(p?.child);
    await bus?.drain().catch(() => undefined);
    await new Promise<void>((r) => (payloadServer ? payloadServer.close(() => r()) : r()));
    await deleteStreams(root);
    await dropDb?.();
    rmSync(dir, { recursive: true, force: true });
  });

  it('updates, reboots and verifies one agent, while one whose health check fails returns to its old slot by itself', async () => {
    const good = startAgent('ab-good', 'good', 'true');
    const bad = startAgent('ab-bad', 'bad', 'echo "etcd unhealthy" >&2; exit 1');
    await eventually(async () => (await node('ab-good')).status === 'online' && (await node('ab-bad')).status === 'online', 30_000, 200);

    const image = randomBytes(512 * 1024);
    const releaseId = await publish('1.1.0', image);
    const rollout = await http<{ id: string }>('POST', '/api/v1/rollouts', {
      releaseId,
      target: { selector: 'role in (good,bad)' },
      strategy: { type: 'waves', waves: [100], soakSeconds: 0 },
      rebootSlotsPerGroup: 1,
      failureThresholdPercent: 100,
    });
    firstRolloutId = rollout.id;
    const watch = run(['rollouts', 'watch', rollout.id, '--interval', '0.5'], cliEnv);

    const states = await eventually(async () => {
      const s = await nodeStates(rollout.id);
      return s.length === 2 && s.every((n) => ['succeeded', 'failed', 'rolled_back'].includes(n.state)) ? s : undefined;
    }, 60_000, 300).catch((err) => {
      throw new Error(`${(err as Error).message}\n--- good\n${good.output()}\n--- bad\n${bad.output()}`);
    });
    const byId = Object.fromEntries(states.map((n) => [n.nodeId, n]));
    expect(byId['ab-good']).toMatchObject({ state: 'succeeded' });
    expect(byId['ab-bad']).toMatchObject({ state: 'rolled_back', code: 'health_check_failed' });
    expect(byId['ab-bad'].message).toContain('probe');

    // The good machine runs the new image from slot b, confirmed; it rebooted once.
    await eventually(async () => (await node('ab-good')).os.version === '1.1.0', 10_000, 200);
    expect((await node('ab-good')).bootedSlot).toBe('b');
    const goodState = JSON.parse(readFileSync(join(dir, 'ab-good/updates/boot-state.json'), 'utf8'));
    expect(goodState).toMatchObject({ booted: 'b', lastGood: 'b', trial: false });
    expect(Buffer.compare(readFileSync(join(dir, 'ab-good/updates/slots/b/image')), image)).toBe(0);
    expect(good.restarts).toBe(1);

    // The bad one booted the trial slot, failed its check, and came back to slot a by itself.
    const badState = JSON.parse(readFileSync(join(dir, 'ab-bad/updates/boot-state.json'), 'utf8'));
    expect(badState).toMatchObject({ booted: 'a', lastGood: 'a', trial: false });
    expect(bad.restarts).toBe(2);
    expect((await node('ab-bad')).os.version).toBe('1.0.0');

    const watched = await watch;
    expect(watched.code, watched.stderr).toBe(0);
    expect(watched.stdout).toMatch(/wave 1 +100% \[#{20}\] +2\/2/);
    expect(watched.stdout).toContain('completed');
    const locks = await http<{ items: Array<{ holders: unknown[] }> }>('GET', '/api/v1/locks');
    expect(locks.items.every((g) => g.holders.length === 0)).toBe(true);
  });

  it('refuses a tampered payload: failed with checksum_mismatch, nothing staged, no reboot', async () => {
    const good = agents.get('ab-good')!;
    const restarts = good.restarts;
    const signed = randomBytes(64 * 1024);
    const tampered = Buffer.from(signed);
    tampered[1000] ^= 0xff;
    const releaseId = await publish('1.2.0', tampered, signed);
    expect(createHash('sha256').update(tampered).digest('hex')).not.toBe(createHash('sha256').update(signed).digest('hex'));
    const rollout = await http<{ id: string }>('POST', '/api/v1/rollouts', {
      releaseId,
      target: { selector: 'role=good' },
      strategy: { type: 'waves', waves: [100], soakSeconds: 0 },
      failureThresholdPercent: 100,
    });
    const [state] = await eventually(async () => {
      const s = await nodeStates(rollout.id);
      return s.length === 1 && s[0].state === 'failed' ? s : undefined;
    }, 30_000, 300);
    expect(state).toMatchObject({ nodeId: 'ab-good', code: 'checksum_mismatch' });
    expect(good.restarts).toBe(restarts);
    expect((await node('ab-good')).os.version).toBe('1.1.0');
    const bootState = JSON.parse(readFileSync(join(dir, 'ab-good/updates/boot-state.json'), 'utf8'));
    expect(bootState).toMatchObject({ booted: 'b', next: 'b' });
    expect(bootState.slots.a.version).toBe('1.0.0');
    expect(readdirSync(join(dir, 'ab-good/updates/download'))).toEqual([]);
  });

  it('rolls an updated machine back on operator request from its other slot, without downloading', async () => {
    const good = agents.get('ab-good')!;
    const restarts = good.restarts;
    const requests = payloadRequests;
    const rolledBack = await http<{ state: string }>('POST', `/api/v1/rollouts/${firstRolloutId}/rollback`, { reason: 'e2e' });
    expect(rolledBack.state).toBe('rolled_back');
    const state = await eventually(async () => {
      const s = (await http<{ items: Array<{ nodeId: string; state: string; rollback: boolean }> }>('GET', `/api/v1/rollouts/${firstRolloutId}/nodes?nodeId=ab-good`)).items[0];
      return s?.rollback && s.state === 'succeeded' ? s : undefined;
    }, 30_000, 300);
    expect(state).toMatchObject({ nodeId: 'ab-good', rollback: true });
    await eventually(async () => (await node('ab-good')).os.version === '1.0.0', 10_000, 200);
    expect((await node('ab-good')).bootedSlot).toBe('a');
    expect(good.restarts).toBe(restarts + 1);
    expect(payloadRequests).toBe(requests);
    const bootState = JSON.parse(readFileSync(join(dir, 'ab-good/updates/boot-state.json'), 'utf8'));
    expect(bootState).toMatchObject({ booted: 'a', lastGood: 'a', trial: false });
    expect(bootState.slots.b.version).toBe('1.1.0');
  });
});
