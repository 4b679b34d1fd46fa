import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONFIG, CONFIG_BUNDLE_VERB, CONFIG_NOTICE_TOPIC, bundleHash, configFileSchema, configVerbs as v, type Bundle, type ConfigReport, type NodeConfigStatus, type RevisionView } from '#contracts/config';
import { MessageBus, encodeJson } from '#lib/messaging';
import { TEST_NATS_URL, createTestDatabase, deleteStreams, eventually, testSubjectRoot } from '../support/infra.js';
import { startScript as start, stopProcess, type SpawnedProcess as Proc } from '../support/processes.js';

const kill = (p: Proc | undefined) => stopProcess(p?.child, 0, 'SIGKILL');

/**
 * The built platform with real processes: inventory and config services, and `fleet-agent run`
 * agents managing files in temporary directories.
 */
const repo = resolve(import.meta.dirname, '../..');
const inventoryMain = join(repo, 'dist/apps/inventory/src/main.js');
const configMain = join(repo, 'dist/apps/config/src/main.js');
const agentCli = join(repo, 'dist/apps/agent/src/cli.js');




const sha = (s: string) => createHash('sha256').update(s).digest('hex');

describe('config distribution to real fleet-agent processes', () => {
  const root = testSubjectRoot();
  const dir = mkdtempSync(join(tmpdir(), 'fleet-e2e-config-'));
  const managed = (node: string) => join(dir, node, 'etc');
  const agents = new Map<string, Proc>();
  const author = 'e2e';
  let dropDb: () => Promise<void>;
  let inventory: Proc;
  let config: Proc | undefined;
  let client: MessageBus;
  let env: Record<string, string>;

  const call = <T = unknown>(verb: string, body: unknown = {}) => client.request<T>(client.subjects.svc(CONFIG, verb), body, 10_000);
  const status = (nodeId: string) => call<NodeConfigStatus>(v.nodeStatus, { nodeId });
  const set = (nodeId: string, file: Record<string, unknown>) => call(v.draftSet, { scope: { kind: 'node', nodeId }, file, author });
  const publish = (message: string) => call<{ revision: RevisionView }>(v.publish, { author, message });
  const inSyncAt = (nodeId: string, revision: number) =>
    eventually(async () => {
      const s = await status(nodeId).catch(() => undefined);
      return s && s.inSync && s.appliedRevision === revision ? s : undefined;
    }, 30_000);

  const startAgent = (nodeId: string, remediateDrift: boolean) => {
    mkdirSync(managed(nodeId), { recursive: true });
    const file = join(dir, `${nodeId}.json`);
    writeFileSync(
      file,
      JSON.stringify({
        natsUrl: TEST_NATS_URL,
        subjectRoot: root,
        nodeId,
        dataDir: join(dir, nodeId, 'data'),
        group: 'e2e',
        hostname: `${nodeId}.e2e`,
        os: { name: 'Fleetcore Linux', version: '1.0.0' },
        logLevel: 'warn',
        heartbeatIntervalSeconds: 1,
        updates: { enabled: false },
        config: { managedRoots: [managed(nodeId)], driftIntervalSeconds: 0.5, remediateDrift },
      }),
    );
    agents.set(nodeId, start(agentCli, ['run', '--config', file]));
  };
  const startConfig = async () => {
    config = start(configMain, [], { ...env, CONFIG_ALLOWED_ROOTS: dir, CONFIG_NUDGE_INTERVAL_MS: '300', CONFIG_ACK_GRACE_MS: '1000' });
    await eventually(() => client.request(client.subjects.svc(CONFIG, 'ping'), {}, 500), 30_000, 200).catch((err) => {
      throw new Error(`config did not start: ${(err as Error).message}\n${config?.output()}`);
    });
  };

  beforeAll(async () => {
    const db = await createTestDatabase();
    dropDb = db.drop;
    client = await MessageBus.connect({ url: TEST_NATS_URL, name: 'e2e-config', subjectRoot: root, service: 'e2e' });
    env = { NATS_URL: TEST_NATS_URL, DATABASE_URL: db.url, FLEET_SUBJECT_ROOT: root, LOG_LEVEL: 'warn', METRICS_PORT: '0', LEADER_RETRY_MS: '500' };
    inventory = start(inventoryMain, [], { ...env, HEARTBEAT_INTERVAL_SECONDS: '1', HEARTBEAT_FLUSH_MS: '100' });
    await eventually(() => client.request(client.subjects.svc('inventory', 'ping'), {}, 500), 30_000, 200);
    await startConfig();
    startAgent('cfg-1', false);
    startAgent('cfg-2', true);
    await eventually(async () => (await status('cfg-1').catch(() => undefined)) && (await status('cfg-2').catch(() => undefined)), 30_000);
  });

  afterAll(async () => {
    for (const p of [...agents.values(), config, inventory]) await kill(p);
    await client?.drain().catch(() => undefined);
    await deleteStreams(root);
    await dropDb?.();
    rmSync(dir, { recursive: true, force: true });
  });

  it('publishes files that appear with the right content and mode, acknowledged with the same hash', async () => {
    await set('cfg-1', { path: join(managed('cfg-1'), 'app/app.conf'), content: 'port=80\n', mode: 0o640 });
    await set('cfg-2', { path: join(managed('cfg-2'), 'app.json'), content: '{"ok": true}', mode: 0o600 });
    const { revision } = await publish('first');
    const s1 = await inSyncAt('cfg-1', revision.revision);
    await inSyncAt('cfg-2', revision.revision);
    const path = join(managed('cfg-1'), 'app/app.conf');
    expect(readFileSync(path, 'utf8')).toBe('port=80\n');
    expect(statSync(path).mode & 0o7777).toBe(0o640);
    expect(statSync(join(managed('cfg-2'), 'app.json')).mode & 0o7777).toBe(0o600);
    const bundle = await call<Bundle>(v.effective, { nodeId: 'cfg-1' });
    expect(s1.appliedHash).toBe(bundle.hash);
    expect(s1.appliedHash).toBe(bundleHash([configFileSchema.parse({ path, content: 'port=80\n', mode: 0o640 })]));
    expect(s1.lastResult?.files).toEqual([{ path, result: 'written' }]);
  });

  it('keeps the old file and reports check_failed when the check command fails', async () => {
    const path = join(managed('cfg-1'), 'app/app.conf');
    await set('cfg-1', { path, content: 'port=eighty\n', mode: 0o640, check: 'grep -Eq "^port=[0-9]+$" {{src}}' });
    const { revision } = await publish('bad port');
    const s = await eventually(async () => {
      const st = await status('cfg-1');
      return st.lastResult?.revision === revision.revision ? st : undefined;
    }, 30_000);
    expect(s.lastResult).toMatchObject({ ok: false, files: [{ path, result: 'check_failed' }] });
    expect(s.inSync).toBe(false);
    expect(readFileSync(path, 'utf8')).toBe('port=80\n');
    await set('cfg-1', { path, content: 'port=8080\n', mode: 0o640, check: 'grep -Eq "^port=[0-9]+$" {{src}}' });
    const fixed = await publish('good port');
    await inSyncAt('cfg-1', fixed.revision.revision);
    expect(readFileSync(path, 'utf8')).toBe('port=8080\n');
  });

  it('reports a hand edit as drift, and repairs it where remediation is on', async () => {
    const p1 = join(managed('cfg-1'), 'app/app.conf');
    const p2 = join(managed('cfg-2'), 'app.json');
    writeFileSync(p1, 'port=1\n');
    writeFileSync(p2, '{"ok": false}');
    const d1 = await eventually(async () => ((await status('cfg-1')).drift.length ? status('cfg-1') : undefined), 30_000);
    expect(d1.drift).toEqual([{ path: p1, expected: sha('port=8080\n'), found: sha('port=1\n'), kinds: ['content'] }]);
    expect(readFileSync(p1, 'utf8')).toBe('port=1\n');
    await eventually(() => readFileSync(p2, 'utf8') === '{"ok": true}', 30_000);
    const drifted = await call<{ nodes: NodeConfigStatus[] }>(v.drift, {});
    expect(drifted.nodes.map((n) => n.nodeId)).toContain('cfg-1');
    writeFileSync(p1, 'port=8080\n');
    await eventually(async () => (await status('cfg-1')).drift.length === 0, 30_000);
  });

  it('reports a chmod as mode drift, and repairs it in place where remediation is on', async () => {
    const p1 = join(managed('cfg-1'), 'app/app.conf');
    const p2 = join(managed('cfg-2'), 'app.json');
    const inode = statSync(p2).ino;
    chmodSync(p1, 0o777);
    chmodSync(p2, 0o666);
    const d1 = await eventually(async () => ((await status('cfg-1')).drift.length ? status('cfg-1') : undefined), 30_000);
    expect(d1.drift).toEqual([{ path: p1, expected: sha('port=8080\n'), found: sha('port=8080\n'), kinds: ['mode'], expectedMode: '0640', foundMode: '0777' }]);
    expect(statSync(p1).mode & 0o7777).toBe(0o777);
    // The remediating agent sets the mode back on the same file, content untouched.
    await eventually(() => (statSync(p2).mode & 0o7777) === 0o600, 30_000);
    expect(statSync(p2).ino).toBe(inode);
    expect(readFileSync(p2, 'utf8')).toBe('{"ok": true}');
    chmodSync(p1, 0o640);
    await eventually(async () => (await status('cfg-1')).drift.length === 0 && (await status('cfg-2')).drift.length === 0, 30_000);
  });

  it('restores the previous content on rollback', async () => {
    const path = join(managed('cfg-1'), 'app/app.conf');
    const history = await call<{ revisions: RevisionView[] }>(v.revisions, {});
    const first = history.revisions.at(-1)!.revision;
    const rb = await call<{ revision: RevisionView }>(v.rollback, { to: first, author });
    await inSyncAt('cfg-1', rb.revision.revision);
    expect(readFileSync(path, 'utf8')).toBe('port=80\n');
  });

  it('converges an agent that was down during the publish when it comes back, removing files no longer managed', async () => {
    await kill(agents.get('cfg-2'));
    const old = join(managed('cfg-2'), 'app.json');
    await call(v.draftRemove, { scope: { kind: 'node', nodeId: 'cfg-2' }, path: old, author });
    await set('cfg-2', { path: join(managed('cfg-2'), 'new.conf'), content: 'new\n' });
    const { revision } = await publish('while cfg-2 was down');
    startAgent('cfg-2', true);
    await inSyncAt('cfg-2', revision.revision);
    expect(readFileSync(join(managed('cfg-2'), 'new.conf'), 'utf8')).toBe('new\n');
    expect(existsSync(old)).toBe(false);
  });

  it('re-acknowledges when the service has lost the ack: the nudge asks again and the agent answers', async () => {
    const { appliedRevision, appliedHash } = await status('cfg-1');
    expect(appliedRevision).not.toBeNull();
    const db = new pg.Client({ connectionString: env.DATABASE_URL });
    await db.connect();
    try {
      await db.query(`DELETE FROM config.node_reports WHERE node_id = 'cfg-1'`);
      expect((await status('cfg-1')).inSync).toBe(false);
      const back = await inSyncAt('cfg-1', appliedRevision!);
      expect(back.appliedHash).toBe(appliedHash);
      const [{ nudges }] = (await db.query<{ nudges: number }>(`SELECT nudges FROM config.nodes WHERE node_id = 'cfg-1'`)).rows;
      expect(nudges).toBeGreaterThanOrEqual(1);
    } finally {
      await db.end();
    }
  });

  it('refuses a forged bundle that targets paths outside its managed roots', async () => {
    // Play the config service: stop the real one and answer the agent's bundle request ourselves.
    await kill(config);
    const outside = join(dir, 'outside');
    mkdirSync(outside);
    symlinkSync(outside, join(managed('cfg-1'), 'escape'));
    const files = [
      { path: join(outside, 'pwned'), content: 'x' },
      { path: join(managed('cfg-1'), 'escape/pwned'), content: 'x' },
      { path: `${managed('cfg-1')}/../../outside/dots`, content: 'x' },
      { path: join(managed('cfg-1'), 'legit.conf'), content: 'fine' },
    ].map((f) => configFileSchema.parse(f));
    const forged: Bundle = { v: 1, nodeId: 'cfg-1', revision: 999, hash: bundleHash(files), files };
    const reports: ConfigReport[] = [];
    const reportSub = client.nc.subscribe(client.subjects.agentReport('cfg-1', 'config'), {
      callback: (_e, m) => {
        reports.push(m.json() as ConfigReport);
      },
    });
    const serveSub = client.nc.subscribe(client.subjects.agent('cfg-1', CONFIG_BUNDLE_VERB), {
      callback: (_e, m) => {
        m.respond(encodeJson({ ok: true, data: forged }));
      },
    });
    await client.nc.flush();
    client.publish(client.subjects.node('cfg-1', CONFIG_NOTICE_TOPIC), { v: 1, revision: 999, hash: forged.hash });
    const report = await eventually(() => reports.find((r) => r.kind === 'apply' && r.revision === 999), 30_000);
    reportSub.unsubscribe();
    serveSub.unsubscribe();
    expect(report.ok).toBe(false);
    const byPath = Object.fromEntries(report.files.map((f) => [f.path, f.result]));
    expect(byPath[join(outside, 'pwned')]).toBe('refused');
    expect(byPath[join(managed('cfg-1'), 'escape/pwned')]).toBe('refused');
    expect(byPath[`${managed('cfg-1')}/../../outside/dots`]).toBe('refused');
    expect(byPath[join(managed('cfg-1'), 'legit.conf')]).toBe('written');
    expect(readdirSync(outside)).toEqual([]);
    expect(existsSync(join(dir, 'outside', 'dots'))).toBe(false);
  });
});
