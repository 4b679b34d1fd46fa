import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeConfigStatus } from '#contracts/config';
import { main } from '../../../apps/cli/src/main.js';
import { parseCanary } from '../../../apps/cli/src/commands/config.js';
import { ADMIN_TOKEN, startGatewayFixture, type GatewayFixture } from '../gateway/harness.js';
import { eventually } from '../../support/infra.js';
import { ConfigHarness, hello } from './support.js';

describe('fleetctl config and provisioning against the real gateway and services', () => {
  const h = new ConfigHarness();
  const dir = mkdtempSync(join(tmpdir(), 'fleetctl-config-'));
  let f: GatewayFixture;

  const ctl = async (...argv: string[]) => {
    let stdout = '';
    let stderr = '';
    const code = await main(argv, {
      stdout: { write: (s: string) => (stdout += s) },
      stderr: { write: (s: string) => (stderr += s) },
      env: { FLEETCTL_SERVER: f.gateway.url, FLEETCTL_TOKEN: ADMIN_TOKEN },
    });
    return { code, stdout, stderr };
  };

  beforeAll(async () => {
    await h.setUp();
    f = await startGatewayFixture({}, { root: h.root, databaseUrl: h.dbUrl });
    await h.sayHello(hello('ctl-1', { labels: { role: 'web' } }));
    await eventually(async () => (await h.sql<{ n: number }>('SELECT count(*)::int AS n FROM config.nodes'))[0].n === 1);
  });
  afterAll(async () => {
    await f?.close();
    await h.tearDown();
    rmSync(dir, { recursive: true, force: true });
  });

  it('parses --canary as a percentage or a selector', () => {
    expect(parseCanary('5%')).toEqual({ percent: 5 });
    expect(parseCanary('role=web')).toEqual({ selector: 'role=web' });
    expect(() => parseCanary('150%')).toThrow(/percent/);
  });

  it('stages, publishes, lists, diffs, rolls back and shows status', async () => {
    writeFileSync(join(dir, 'app.toml'), '[server]\nport = 8080\n');
    expect((await ctl('config', 'set', '/etc/app/app.toml', '--file', join(dir, 'app.toml'), '--mode', '0640', '--reload-unit', 'app.service')).code).toBe(0);
    expect((await ctl('config', 'set', '/etc/motd', '--content', 'hi', '--scope', 'selector=role=web')).code).toBe(0);
    const drafts = await ctl('config', 'ls', '--drafts');
    expect(drafts.stdout).toMatch(/selector:role=web\s+\/etc\/motd/);
    const noMessage = await ctl('config', 'publish');
    expect(noMessage.code).toBe(2);
    const pub = await ctl('config', 'publish', '-m', 'first', '--expect', '0');
    expect(pub.stdout).toMatch(/published revision 1/);
    const stale = await ctl('config', 'publish', '-m', 'x', '--expect', '0');
    expect(stale.code).toBe(1);
    expect(stale.stderr).toMatch(/revision_conflict|nothing to publish/);

    const ls = await ctl('config', 'ls');
    expect(ls.stdout).toMatch(/global\s+\/etc\/app\/app\.toml\s+0640\s+\d+\s+app\.service/);
    await ctl('config', 'set', '/etc/motd', '--content', 'hello', '--scope', 'selector=role=web');
    await ctl('config', 'publish', '-m', 'second', '--canary', 'role=web');
    await eventually(async () => /canary 2 on 1 node/.test((await ctl('config', 'status')).stdout));
    expect((await ctl('config', 'promote')).stdout).toMatch(/revision 2 promoted/);
    const diff = await ctl('config', 'diff', '1', '2');
    expect(diff.stdout).toContain('~ /etc/motd (selector:role=web): content');
    expect(diff.stdout).toContain('    + hello');
    expect((await ctl('config', 'rollback', '1')).stdout).toMatch(/published revision 3 with the content of revision 1/);
    const history = await ctl('config', 'history', '-o', 'json');
    expect(JSON.parse(history.stdout).revisions.map((r: { revision: number }) => r.revision)).toEqual([3, 2, 1]);
    await eventually(async () => (await ctl('config', 'status', 'ctl-1')).stdout.includes('desired 3'));
    expect((await ctl('config', 'drift')).stdout).toMatch(/no drift/);
  });

  it('shows what drifted: a changed mode with the mode expected', async () => {
    const { appliedRevision, appliedHash } = JSON.parse((await ctl('config', 'status', 'ctl-1', '-o', 'json')).stdout) as NodeConfigStatus;
    const sha = 'c'.repeat(64);
    await h.report('ctl-1', {
      v: 1,
      kind: 'drift',
      revision: appliedRevision ?? 0,
      hash: appliedHash ?? '',
      ok: true,
      drift: [{ path: '/etc/app/app.toml', expected: sha, found: sha, kinds: ['mode'], expectedMode: '0640', foundMode: '0777' }],
      at: new Date().toISOString(),
    });
    const drift = await eventually(async () => {
      const out = await ctl('config', 'drift');
      return out.code === 3 ? out : undefined;
    });
    expect(drift.stdout).toMatch(/ctl-1\s+\/etc\/app\/app\.toml\s+mode 0777, expected 0640/);
    const status = await ctl('config', 'status', 'ctl-1');
    expect(status.code).toBe(3);
    expect(status.stdout).toContain('drift: /etc/app/app.toml: mode 0777, expected 0640');
  });

  it('publish --wait follows the nodes: 0 once each applied, 3 on a failure or when the timeout passes', async () => {
    const latest = async () => (JSON.parse((await ctl('config', 'history', '-o', 'json')).stdout).revisions as Array<{ revision: number }>)[0]?.revision ?? 0;
    /** Plays the agent: once the node is told `revision`, answers for it. */
    const ack = async (revision: number, ok: boolean) => {
      const b = await eventually(async () => {
        const s = JSON.parse((await ctl('config', 'status', 'ctl-1', '-o', 'json')).stdout) as NodeConfigStatus;
        return s.desiredRevision === revision ? s : undefined;
      });
      await h.report('ctl-1', {
        v: 1,
        kind: 'apply',
        revision,
        hash: b.desiredHash!,
        ok,
        files: ok ? [] : [{ path: '/etc/motd', result: 'check_failed', message: 'exit 1' }],
        at: new Date().toISOString(),
      });
    };

    await ctl('config', 'set', '/etc/motd', '--content', 'wait 1', '--scope', 'selector=role=web');
    const first = (await latest()) + 1;
    const applied = ctl('config', 'publish', '-m', 'wait for it', '--wait', '--wait-timeout', '20s');
    await ack(first, true);
    const done = await applied;
    expect(done.code).toBe(0);
    expect(done.stdout).toMatch(/published revision \d+/);
    expect(done.stdout).toMatch(/\[#+\] 1\/1 applied \(100%\)/);

    await ctl('config', 'set', '/etc/motd', '--content', 'wait 2', '--scope', 'selector=role=web');
    const failing = ctl('config', 'publish', '-m', 'this one fails', '--wait', '--wait-timeout', '20s');
    await ack(first + 1, false);
    const failed = await failing;
    expect(failed.code).toBe(3);
    expect(failed.stdout).toContain('failed 1, waiting 0');
    expect(failed.stderr).toMatch(/1 node\(s\) failed to apply/);

    await ctl('config', 'set', '/etc/motd', '--content', 'wait 3', '--scope', 'selector=role=web');
    const silent = await ctl('config', 'publish', '-m', 'nobody answers', '--wait', '--wait-timeout', '1s');
    expect(silent.code).toBe(3);
    expect(silent.stderr).toMatch(/timed out after 1s: 1 node\(s\) have not answered yet/);
    const watch = await ctl('config', 'watch', '--wait-timeout', '500ms', '-o', 'json');
    expect(watch.code).toBe(3);
    expect(JSON.parse(watch.stdout.trim().split('\n')[0]).status).toMatchObject({ nodes: 1, pending: 1 });
  });

  it('manages provisioning profiles and groups and renders Ignition', async () => {
    writeFileSync(
      join(dir, 'worker.ign'),
      JSON.stringify({ ignition: { version: '3.4.0' }, passwd: { users: [{ name: 'core', sshAuthorizedKeys: ['{{ssh_key}}'] }] } }),
    );
    writeFileSync(join(dir, 'bad.ign'), JSON.stringify({ ignition: { version: '3.4.0' }, passwd: { users: [{}] } }));
    const bad = await ctl('provisioning', 'profiles', 'set', 'bad', '--file', join(dir, 'bad.ign'));
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/users\[0\]\.name: is required/);
    expect((await ctl('provisioning', 'profiles', 'set', 'worker', '--file', join(dir, 'worker.ign'))).code).toBe(0);
    expect((await ctl('provisioning', 'groups', 'set', 'all', '--profile', 'worker', '--meta', 'ssh_key=ssh-ed25519 AAAA')).code).toBe(0);
    expect((await ctl('provisioning', 'groups', 'ls')).stdout).toMatch(/all\s+\(default\)\s+worker\s+ssh_key/);
    const rendered = JSON.parse((await ctl('provisioning', 'render', '--mac', '52:54:00:00:00:01')).stdout);
    expect(rendered.passwd.users[0].sshAuthorizedKeys).toEqual(['ssh-ed25519 AAAA']);
  });
});
