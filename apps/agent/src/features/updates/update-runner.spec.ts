import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JsonLogger } from '#lib/telemetry';
import { AbBackend } from './ab-backend.js';
import type { CheckResult } from './health.js';
import type { DesiredUpdate, LockAnswer, UpdateProtocol, UpdateReport } from './protocol.js';
import { generateSigningKeyPair, parsePrivateKey, parsePublicKey, signDigest } from './signing.js';
import { startPayloadServer, type PayloadServer } from './test-payload-server.js';
import { UpdateRunner } from './update-runner.js';
import { UpdateStateStore } from './update-state.js';

/** The platform side, in memory: these specs are about the node's state machine. */
class Platform implements UpdateProtocol {
  desired: DesiredUpdate | null = null;
  reports: UpdateReport[] = [];
  grant = true;
  down = false;
  holders = new Set<string>();
  async fetchDesired() {
    return this.desired;
  }
  async report(r: UpdateReport) {
    if (this.down) throw new Error('no responders');
    this.reports.push(r);
  }
  async acquireLock(group: string): Promise<LockAnswer> {
    if (!this.grant) return { granted: false, code: 'lock_unavailable', reason: 'group full', retryAfterSeconds: 5 };
    this.holders.add(group);
    return { granted: true };
  }
  async releaseLock(group: string) {
    if (this.down) throw new Error('no responders');
    this.holders.delete(group);
  }
  states() {
    return this.reports.map((r) => r.state);
  }
}

const keys = generateSigningKeyPair();
const privateKey = parsePrivateKey(keys.privateKeyPem);
let server: PayloadServer;
const dirs: string[] = [];

beforeAll(async () => {
  server = await startPayloadServer();
});
afterAll(async () => {
  await server.close();
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

function release(version: string, bytes: Buffer, opts: { rollback?: boolean; arch?: string; signWith?: typeof privateKey } = {}): DesiredUpdate {
  const path = `/img-${version}-${randomUUID()}`;
  server.files.set(path, bytes);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  return {
    rolloutId: randomUUID(),
    version,
    arch: opts.arch ?? 'x86_64',
    rollback: opts.rollback ?? false,
    group: 'default',
    payload: { url: server.url(path), sha256, size: bytes.length, signature: signDigest(sha256, opts.signWith ?? privateKey) },
  };
}

/** One "boot" of a machine whose state lives in `dir`. */
async function boot(dir: string, platform: Platform, health: () => CheckResult = () => ({ ok: true }), bootId: string = randomUUID()) {
  const m = { rebooted: false, versionChanges: 0 };
  const backend = new AbBackend({
    dir,
    initialVersion: '1.0.0',
    bootId: async () => bootId,
    rebootHandler: async () => {
      m.rebooted = true;
    },
  });
  const info = await backend.init();
  const runner = new UpdateRunner({
    backend,
    store: new UpdateStateStore(dir, true),
    protocol: platform,
    arch: 'x86_64',
    trustedKeys: [parsePublicKey(keys.publicKeyBase64)],
    downloadDir: join(dir, 'download'),
    downloadTimeoutMs: 5000,
    simulated: false,
    healthCheck: async () => health(),
    onVersionChange: async () => {
      m.versionChanges++;
    },
    logger: new JsonLogger('test', 'updates'),
  });
  await runner.afterBoot(info);
  const signal = new AbortController().signal;
  return { backend, runner, m, step: () => runner.step(() => platform.fetchDesired(), signal) };
}

async function machine() {
  const dir = await mkdtemp(join(tmpdir(), 'ab-'));
  dirs.push(dir);
  return dir;
}

describe('update runner with the ab backend', () => {
  it('downloads, verifies, stages, takes a reboot slot, reboots, passes checks and commits', async () => {
    const dir = await machine();
    const p = new Platform();
    const image = randomBytes(64 * 1024);
    p.desired = release('1.1.0', image);
    const first = await boot(dir, p);
    expect(await first.step()).toBe('rebooting');
    expect(first.m.rebooted).toBe(true);
    expect(p.states()).toEqual(['downloading', 'staged', 'rebooting']);
    expect(p.reports[0].fromVersion).toBe('1.0.0');
    expect(p.holders.has('default')).toBe(true);
    expect(Buffer.compare((await first.backend.readSlot('b'))!, image)).toBe(0);
    expect(first.backend.bootState).toMatchObject({ booted: 'a', next: 'b', triesLeft: 1, rebootPending: true });

    const second = await boot(dir, p);
    expect(second.backend.status()).toMatchObject({ bootedSlot: 'b', trial: true, bootedVersion: '1.1.0' });
    expect(await second.step()).toBe('idle');
    expect(p.states().slice(3)).toEqual(['verifying', 'succeeded']);
    expect(second.backend.bootState).toMatchObject({ booted: 'b', lastGood: 'b', trial: false });
    expect(p.holders.size).toBe(0);
    expect(second.m.versionChanges).toBe(1);
    // Level-triggered: asking again changes nothing and reports nothing new.
    expect(await second.step()).toBe('idle');
    expect(p.reports).toHaveLength(5);
    expect(await readdir(join(dir, 'download'))).toEqual([]);
  });

  it('returns to the last good slot by itself when a health check fails, and reports rolled_back with the check', async () => {
    const dir = await machine();
    const p = new Platform();
    p.desired = release('1.2.0', randomBytes(1024));
    await (await boot(dir, p)).step();
    const trial = await boot(dir, p, () => ({ ok: false, name: 'etcd', reason: 'command exited with 1' }));
    expect(await trial.step()).toBe('rebooting');
    expect(trial.backend.bootState).toMatchObject({ booted: 'b', next: 'a', trial: true });
    expect(p.holders.size).toBe(1); // still held through the fallback reboot

    const back = await boot(dir, p);
    expect(back.backend.status()).toMatchObject({ bootedSlot: 'a', bootedVersion: '1.0.0', trial: false });
    const last = p.reports.at(-1)!;
    expect(last).toMatchObject({ state: 'rolled_back', code: 'health_check_failed', version: '1.2.0' });
    expect(last.message).toContain('etcd');
    expect(p.holders.size).toBe(0);
    // The same desired update is not tried again.
    expect(await back.step()).toBe('idle');
    expect(back.m.rebooted).toBe(false);
  });

  it('falls back when the trial boot never reaches the health checks (crash and reboot on trial)', async () => {
    const dir = await machine();
    const p = new Platform();
    p.desired = release('1.2.1', randomBytes(1024));
    await (await boot(dir, p)).step();
    await boot(dir, p); // trial boot; dies before stepping
    await boot(dir, p); // bootloader: no tries left → last good slot
    expect(p.reports.at(-1)).toMatchObject({ state: 'rolled_back', code: 'boot_failed' });
  });

  it('refuses a tampered payload: failed with checksum_mismatch, nothing staged, the partial file discarded', async () => {
    const dir = await machine();
    const p = new Platform();
    const d = release('1.3.0', randomBytes(4096));
    const tampered = randomBytes(4096);
    server.files.set(new URL(d.payload!.url).pathname, tampered);
    p.desired = d;
    const node = await boot(dir, p);
    expect(await node.step()).toBe('idle');
    expect(p.reports.at(-1)).toMatchObject({ state: 'failed', code: 'checksum_mismatch' });
    expect(node.backend.bootState.slots.b).toBeNull();
    expect(node.backend.status().armed).toBe(false);
    expect(p.holders.size).toBe(0);
    expect(await readdir(join(dir, 'download'))).toEqual([]);
  });

  it('refuses a release signed by an untrusted key before downloading it', async () => {
    const dir = await machine();
    const p = new Platform();
    p.desired = release('1.3.1', randomBytes(1024), { signWith: parsePrivateKey(generateSigningKeyPair().privateKeyPem) });
    const seen = server.requests.length;
    await (await boot(dir, p)).step();
    expect(p.reports.at(-1)).toMatchObject({ state: 'failed', code: 'bad_signature' });
    expect(server.requests.length).toBe(seen);
  });

  it('refuses another arch and a downgrade that is not an explicit rollback', async () => {
    const p = new Platform();
    p.desired = release('1.4.0', randomBytes(100), { arch: 'aarch64' });
    await (await boot(await machine(), p)).step();
    expect(p.reports.at(-1)).toMatchObject({ state: 'failed', code: 'wrong_arch' });
    p.desired = release('0.9.0', randomBytes(100));
    await (await boot(await machine(), p)).step();
    expect(p.reports.at(-1)).toMatchObject({ state: 'failed', code: 'downgrade_refused' });
  });

  it('an explicit rollback returns to the previous image in the other slot without downloading', async () => {
    const dir = await machine();
    const p = new Platform();
    p.desired = release('2.0.0', randomBytes(2048));
    await (await boot(dir, p)).step();
    await (await boot(dir, p)).step();
    expect(p.reports.at(-1)?.state).toBe('succeeded');

    p.desired = { ...release('1.0.0', randomBytes(10), { rollback: true }), payload: null };
    const seen = server.requests.length;
    const node = await boot(dir, p);
    expect(await node.step()).toBe('rebooting');
    expect(server.requests.length).toBe(seen);
    expect(p.states().slice(-2)).toEqual(['staged', 'rebooting']);
    const after = await boot(dir, p);
    await after.step();
    expect(after.backend.status()).toMatchObject({ bootedSlot: 'a', bootedVersion: '1.0.0', trial: false });
    expect(p.reports.at(-1)).toMatchObject({ state: 'succeeded', version: '1.0.0' });
  });

  it('waits for a reboot slot, reporting awaiting_reboot once, and cancels cleanly when the update is withdrawn', async () => {
    const dir = await machine();
    const p = new Platform();
    p.grant = false;
    p.desired = release('1.5.0', randomBytes(512));
    const node = await boot(dir, p);
    expect(await node.step()).toBe('wait');
    expect(await node.step()).toBe('wait');
    expect(p.states()).toEqual(['downloading', 'staged', 'awaiting_reboot']);
    expect(p.reports.at(-1)?.code).toBe('lock_unavailable');
    // Not armed before the slot is granted: a power cycle now must not boot the new image.
    expect(node.backend.status().armed).toBe(false);

    p.desired = null;
    expect(await node.step()).toBe('idle');
    expect(node.backend.status().armed).toBe(false);
    expect(node.runner.phase).toBe('idle');
  });

  it('resumes after a restart in the middle of waiting for the reboot slot, without downloading again', async () => {
    const dir = await machine();
    const p = new Platform();
    p.grant = false;
    p.desired = release('1.6.0', randomBytes(512));
    await (await boot(dir, p, undefined, 'boot-1')).step();
    const downloads = server.requests.length;
    p.grant = true;
    const again = await boot(dir, p, undefined, 'boot-1'); // the agent restarted; the machine did not
    expect(again.backend.status()).toMatchObject({ bootedSlot: 'a', trial: false });
    expect(await again.step()).toBe('rebooting');
    expect(server.requests.length).toBe(downloads);
    expect(p.states()).toEqual(['downloading', 'staged', 'awaiting_reboot', 'rebooting']);
  });

  it('runs the health checks and commits while the platform is unreachable, and reports once it is back', async () => {
    const dir = await machine();
    const p = new Platform();
    p.desired = release('1.7.0', randomBytes(256));
    await (await boot(dir, p)).step();
    p.down = true;
    const trial = await boot(dir, p);
    await expect(trial.step()).rejects.toThrow(/no responders/);
    expect(trial.backend.bootState).toMatchObject({ booted: 'b', lastGood: 'b', trial: false });
    expect(p.holders.size).toBe(1);
    p.down = false;
    expect(await trial.step()).toBe('idle');
    expect(p.reports.at(-1)).toMatchObject({ state: 'succeeded', version: '1.7.0' });
    expect(p.holders.size).toBe(0);
  });
});
