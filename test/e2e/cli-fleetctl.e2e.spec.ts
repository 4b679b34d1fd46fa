import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HelloInput, NodeView } from '#contracts/inventory';
import { MessageBus } from '#lib/messaging';
import { TEST_NATS_URL, createTestDatabase, deleteStreams, eventually, testSubjectRoot } from '../support/infra.js';
import { freePort, startScript, stopProcess } from '../support/processes.js';

const spawnService = (script: string, env: Record<string, string>) => startScript(join(repo, script), [], env);
const stop = (child: Parameters<typeof stopProcess>[0]) => stopProcess(child, 5000);

/**
 * The built platform and the built CLI: the inventory and the gateway run as their own processes
 * from dist/, machines register with real hello messages on NATS, and every check runs
 * `node dist/apps/cli/src/main.js` as a child process, asserting its output and exit code.
 */
const repo = resolve(import.meta.dirname, '../..');
const fleetctlMain = join(repo, 'dist/apps/cli/src/main.js');
const ADMIN = `fct_e2e-admin-${'z'.repeat(40)}`;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}




function hello(i: number): HelloInput {
  return {
    v: 1,
    nodeId: `cli-${i}`,
    hostname: `cli-${i}.test`,
    labels: { env: i % 2 ? 'prod' : 'dev', zone: i < 3 ? 'a' : 'b' },
    group: 'web',
    channel: 'stable',
    arch: 'x86_64',
    os: { name: 'fleetos', version: '2.0.0' },
    agentVersion: '0.1.0',
  };
}

describe('fleetctl against a running gateway and inventory', () => {
  const root = testSubjectRoot();
  let dropDb: () => Promise<void>;
  let server: string;
  let gateway: ReturnType<typeof spawnService> | undefined;
  let inventory: ReturnType<typeof spawnService> | undefined;
  let agents: MessageBus | undefined;

  const fleetctl = (args: string[], env: Record<string, string | undefined> = {}): Promise<Run> =>
    new Promise((res) => {
      execFile(
        process.execPath,
        [fleetctlMain, ...args],
        { env: { PATH: process.env.PATH, FLEETCTL_SERVER: server, FLEETCTL_TOKEN: ADMIN, ...env } as NodeJS.ProcessEnv, timeout: 20_000 },
        (err, stdout, stderr) => res({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });

  beforeAll(async () => {
    const db = await createTestDatabase();
    dropDb = db.drop;
    const port = await freePort();
    server = `http://127.0.0.1:${port}`;
    const env = { NATS_URL: TEST_NATS_URL, DATABASE_URL: db.url, FLEET_SUBJECT_ROOT: root, LOG_LEVEL: 'warn' };
    inventory = spawnService('dist/apps/inventory/src/main.js', env);
    gateway = spawnService('dist/apps/gateway/src/main.js', { ...env, PORT: String(port), HOST: '127.0.0.1', FLEET_ADMIN_TOKEN: ADMIN });
    await eventually(async () => (await fetch(`${server}/readyz`)).status === 200, 30_000, 200).catch((err: Error) => {
      throw new Error(`${err.message}\ngateway: ${gateway?.output()}\ninventory: ${inventory?.output()}`);
    });
    agents = await MessageBus.connect({ url: TEST_NATS_URL, name: 'cli-e2e-agents', subjectRoot: root, service: 'agents' });
    for (let i = 0; i < 5; i++) await agents.request(agents.subjects.agent(`cli-${i}`, 'hello'), hello(i));
  });

  afterAll(async () => {
    await agents?.drain();
    await stop(gateway?.child);
    await stop(inventory?.child);
    await deleteStreams(root);
    await dropDb?.();
  });

  it('prints help for the tool, an area and a command', async () => {
    const top = await fleetctl(['--help']);
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/Areas:\n\s+nodes/);
    const area = await fleetctl(['nodes', '--help']);
    expect(area.stdout).toMatch(/nodes label ID CHANGES\.\.\./);
    const cmd = await fleetctl(['nodes', 'ls', '--help']);
    expect(cmd.code).toBe(0);
    expect(cmd.stdout).toContain('Usage: fleetctl nodes ls [options]');
    expect(cmd.stdout).toContain('--selector <expr>');
  });

  it('exits 2 with a pointer to --help on usage errors', async () => {
    const unknown = await fleetctl(['nodes', 'dance']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "nodes dance"');
    const badOption = await fleetctl(['nodes', 'ls', '--colour', 'red']);
    expect(badOption.code).toBe(2);
    expect(badOption.stderr).toMatch(/unknown option --colour\nRun `fleetctl nodes ls --help`/);
    expect((await fleetctl(['nodes', 'show'])).stderr).toContain('missing ID');
  });

  it('lists nodes as a table', async () => {
    const res = await fleetctl(['nodes', 'ls']);
    expect(res.code).toBe(0);
    const lines = res.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+HOSTNAME\s+STATUS\s+HEALTH\s+GROUP\s+CHANNEL\s+VERSION\s+LAST SEEN\s+LABELS$/);
    expect(lines).toHaveLength(6);
    expect(lines[1]).toMatch(/^cli-0\s+cli-0\.test\s+online\s+\S+\s+web\s+stable\s+2\.0\.0\s+\S+\s+env=dev,zone=a$/);
  });

  it('lists nodes as JSON, filtered by selector, and follows cursors with --all', async () => {
    const json = await fleetctl(['nodes', 'ls', '--selector', 'env=prod,zone in (a)', '-o', 'json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout).items.map((n: NodeView) => n.id)).toEqual(['cli-1']);
    const page = await fleetctl(['nodes', 'ls', '--limit', '2']);
    expect(page.stdout.trimEnd().split('\n')).toHaveLength(3);
    expect(page.stderr).toMatch(/Showing 2 of 5\. More: --cursor \S+, or --all\./);
    const all = await fleetctl(['-o', 'json', 'nodes', 'ls', '--limit', '2', '--all']);
    expect(JSON.parse(all.stdout).items.map((n: NodeView) => n.id)).toEqual(['cli-0', 'cli-1', 'cli-2', 'cli-3', 'cli-4']);
    const none = await fleetctl(['nodes', 'ls', '--status', 'offline']);
    expect(none.code).toBe(0);
    expect(none.stderr).toContain('No nodes found.');
  });

  it('shows a node, and fails with the server error for an unknown one', async () => {
    const res = await fleetctl(['nodes', 'show', 'cli-3']);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^ID:\s+cli-3$/m);
    expect(res.stdout).toMatch(/^OS:\s+fleetos 2\.0\.0$/m);
    const missing = await fleetctl(['nodes', 'show', 'nope-1']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^Error: not_found: .*nope-1/);
    const missingJson = await fleetctl(['nodes', 'show', 'nope-1', '-o', 'json']);
    expect(JSON.parse(missingJson.stderr)).toMatchObject({ code: 'not_found' });
  });

  it('labels, regroups and decommissions nodes', async () => {
    const label = await fleetctl(['nodes', 'label', 'cli-2', 'rack=r9', 'zone-']);
    expect(label.code).toBe(0);
    expect(label.stdout).toContain('node cli-2 labeled: env=dev,rack=r9');
    const shown = JSON.parse((await fleetctl(['nodes', 'show', 'cli-2', '-o', 'json'])).stdout) as NodeView;
    expect(shown.labels).toEqual({ env: 'dev', rack: 'r9' });
    expect((await fleetctl(['nodes', 'label', 'cli-2', 'oops'])).code).toBe(2);
    const bad = await fleetctl(['nodes', 'label', 'cli-2', 'Bad Key=x']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^Error: validation_failed: /);
    const group = await fleetctl(['nodes', 'group', 'cli-2', 'db']);
    expect(group.stdout).toContain('node cli-2 is now in group db');
    const rm = await fleetctl(['nodes', 'rm', 'cli-4']);
    expect(rm.code).toBe(0);
    expect(rm.stdout).toContain('node cli-4 decommissioned');
    expect((await fleetctl(['nodes', 'show', 'cli-4'])).code).toBe(1);
  });

  it('shows the audit log of those changes', async () => {
    const res = await eventually(async () => {
      const run = await fleetctl(['audit', 'ls', '--actor', 'bootstrap-admin', '--method', 'PATCH']);
      return run.stdout.includes('/api/v1/nodes/cli-2') ? run : null;
    }, 10_000, 200);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^TIME\s+ACTOR\s+ROLE\s+METHOD\s+PATH\s+STATUS\s+REQUEST ID$/m);
    expect(res.stdout).toMatch(/\sbootstrap-admin\s+admin\s+PATCH\s+\/api\/v1\/nodes\/cli-2\s+200\s/);
    // Audit rows are written in batches: the DELETE may land in a later flush than the PATCHes.
    const deletes = await eventually(async () => {
      const json = JSON.parse((await fleetctl(['audit', 'ls', '--method', 'DELETE', '-o', 'json'])).stdout);
      const paths = json.items.map((e: { path: string }) => e.path) as string[];
      return paths.includes('/api/v1/nodes/cli-4') ? paths : null;
    }, 10_000, 200);
    expect(deletes).toContain('/api/v1/nodes/cli-4');
  });

  it('reports fleet status with readiness', async () => {
    const res = await fleetctl(['fleet', 'status']);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^Platform: ready \(NATS connected\)/);
    expect(res.stdout).toMatch(/^inventory\s+up\s+/m);
    expect(res.stdout).toMatch(/^Nodes: 4$/m);
    expect(res.stdout).toMatch(/by group: web 3, db 1/);
    const json = JSON.parse((await fleetctl(['fleet', 'status', '-o', 'json'])).stdout);
    expect(json).toMatchObject({ ready: true, summary: { total: 4 } });
  });

  it('creates, lists and revokes tokens, and enforces their roles', async () => {
    const created = await fleetctl(['tokens', 'create', '--name', 'reader', '--role', 'viewer', '--expires-in', '30d']);
    expect(created.code).toBe(0);
    const secret = created.stdout.trim();
    expect(secret).toMatch(/^fct_[A-Za-z0-9_-]{43}$/);
    expect(created.stderr).toMatch(/not shown again/);
    const asReader = await fleetctl(['nodes', 'ls', '-o', 'json'], { FLEETCTL_TOKEN: secret });
    expect(asReader.code).toBe(0);
    const forbidden = await fleetctl(['nodes', 'rm', 'cli-0', '--token', secret]);
    expect(forbidden.code).toBe(1);
    expect(forbidden.stderr).toMatch(/^Error: forbidden: this needs the operator role/);
    const ls = await fleetctl(['tokens', 'ls']);
    expect(ls.stdout).toMatch(/^ID\s+NAME\s+ROLE\s+PREFIX/);
    expect(ls.stdout).toMatch(/\sreader\s+viewer\s+fct_/);
    const id = (JSON.parse((await fleetctl(['tokens', 'ls', '-o', 'json'])).stdout).items as Array<{ id: string; name: string }>).find(
      (t) => t.name === 'reader',
    )!.id;
    const rm = await fleetctl(['tokens', 'rm', id]);
    expect(rm.stdout).toContain(`token reader (${id}) revoked`);
    const revoked = await fleetctl(['nodes', 'ls'], { FLEETCTL_TOKEN: secret });
    expect(revoked.code).toBe(1);
    expect(revoked.stderr).toMatch(/^Error: unauthorized: /);
    expect((await fleetctl(['tokens', 'create', '--name', 'x'])).code).toBe(2);
  });

  it('exits 1 from fleet status when a required service is down', async () => {
    await stop(inventory?.child);
    const res = await fleetctl(['fleet', 'status']);
    expect(res.code).toBe(1);
    expect(res.stdout).toMatch(/^Platform: NOT READY/);
    expect(res.stdout).toMatch(/^inventory\s+down\s+.*unavailable: /m);
    expect(res.stdout).toMatch(/^Nodes: unknown \(unavailable: /m);
    const nodes = await fleetctl(['nodes', 'ls']);
    expect(nodes.code).toBe(1);
    expect(nodes.stderr).toMatch(/^Error: unavailable: no service answers/);
  });

  it('fails clearly without a token or without a server', async () => {
    const noToken = await fleetctl(['nodes', 'ls'], { FLEETCTL_TOKEN: undefined });
    expect(noToken.code).toBe(1);
    expect(noToken.stderr).toMatch(/^Error: unauthorized: missing bearer token/);
    const noServer = await fleetctl(['nodes', 'ls', '--server', 'http://127.0.0.1:1']);
    expect(noServer.code).toBe(1);
    expect(noServer.stderr).toMatch(/^Error: unavailable: cannot reach the Fleetcore server at http:\/\/127\.0\.0\.1:1/);
  });
});
