import { chmod, chown, mkdtemp, mkdir, readFile, rm, stat, symlink, writeFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bundleHash, configFileSchema, sha256Hex, type Bundle, type ConfigFileInput } from '#contracts/config';
import { EMPTY_STATE, applyBundle, type ApplierDeps } from './applier.js';
import { configFeatureSchema } from './config.js';
import { findDrift, remediate } from './drift.js';
import { DiskFileStore, MemoryFileStore, runShell } from './file-store.js';
import { PathGuard } from './path-guard.js';
import { StateFile } from './state-file.js';

let dir: string;
let root: string;
let outside: string;
let ran: string[];
let deps: ApplierDeps;

const bundle = (revision: number, files: ConfigFileInput[]): Bundle => {
  const parsed = files.map((f) => configFileSchema.parse(f));
  return { v: 1, nodeId: 'n1', revision, hash: bundleHash(parsed), files: parsed };
};

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fleet-config-'));
  root = join(dir, 'managed');
  outside = join(dir, 'outside');
  await mkdir(root);
  await mkdir(outside);
  ran = [];
  deps = {
    store: new DiskFileStore(),
    guard: new PathGuard([root], true),
    run: async (command) => {
      ran.push(command);
      return runShell(command, 5000);
    },
  };
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('agent config section', () => {
  it('is off without managedRoots, and requires them when enabled', () => {
    expect(configFeatureSchema.parse({}).enabled).toBe(false);
    expect(configFeatureSchema.parse({ managedRoots: ['/etc/app/'] })).toMatchObject({ enabled: true, managedRoots: ['/etc/app'], driftIntervalSeconds: 60 });
    expect(configFeatureSchema.safeParse({ enabled: true }).success).toBe(false);
    expect(configFeatureSchema.safeParse({ managedRoots: ['relative'] }).success).toBe(false);
    expect(configFeatureSchema.safeParse({ managedRoots: ['/x'], bogus: 1 }).success).toBe(false);
  });
});

describe('path guard', () => {
  it('refuses paths outside the roots, traversal, and symlinked escapes', async () => {
    const guard = new PathGuard([root], true);
    await symlink(outside, join(root, 'link'));
    await writeFile(join(outside, 'target'), 'x');
    await symlink(join(outside, 'target'), join(root, 'file-link'));
    expect(await guard.problem(join(root, 'a/b/c.conf'))).toBeNull();
    expect(await guard.problem('/etc/passwd')).toMatch(/outside the allowed roots/);
    expect(await guard.problem(`${root}/../outside/x`)).toMatch(/\.\./);
    expect(await guard.problem(join(root, 'link/evil.conf'))).toMatch(/outside the managed roots/);
    expect(await guard.problem(join(root, 'link/deeper/evil.conf'))).toMatch(/outside the managed roots/);
    expect(await guard.problem(join(root, 'file-link'))).toMatch(/is a symlink/);
  });
});

describe('applying a bundle', () => {
  it('writes files atomically with mode and content, leaves no temp files, and reports each file', async () => {
    const out = await applyBundle(bundle(1, [{ path: join(root, 'app/app.conf'), content: 'a=1\n', mode: 0o640 }]), EMPTY_STATE, deps);
    expect(out.ok).toBe(true);
    expect(out.files).toEqual([{ path: join(root, 'app/app.conf'), result: 'written' }]);
    expect(await readFile(join(root, 'app/app.conf'), 'utf8')).toBe('a=1\n');
    expect((await stat(join(root, 'app/app.conf'))).mode & 0o7777).toBe(0o640);
    expect(await readdir(join(root, 'app'))).toEqual(['app.conf']);
    const again = await applyBundle(bundle(2, [{ path: join(root, 'app/app.conf'), content: 'a=1\n', mode: 0o640 }]), out.state, deps);
    expect(again.files[0].result).toBe('unchanged');
  });

  it('keeps the old file and reports check_failed when the check command fails', async () => {
    const path = join(root, 'x.conf');
    const first = await applyBundle(bundle(1, [{ path, content: 'good' }]), EMPTY_STATE, deps);
    const out = await applyBundle(bundle(2, [{ path, content: 'bad', check: 'grep -q good {{src}}' }]), first.state, deps);
    expect(out.ok).toBe(false);
    expect(out.files[0]).toMatchObject({ result: 'check_failed', message: expect.stringMatching(/exit 1/) });
    expect(await readFile(path, 'utf8')).toBe('good');
    expect(await readdir(root)).toEqual(['x.conf']);
    const passing = await applyBundle(bundle(3, [{ path, content: 'good too', check: 'grep -q good {{src}}' }]), out.state, deps);
    expect(passing.files[0].result).toBe('written');
    expect(ran.some((c) => c.startsWith('grep -q good \'') && c.includes('.fleet-'))).toBe(true);
  });

  it('removes files that left the bundle and runs each reload action once', async () => {
    const reload = { kind: 'command' as const, command: `echo reloaded >> ${join(dir, 'reloads')}` };
    const a = join(root, 'a.conf');
    const b = join(root, 'b.conf');
    const first = await applyBundle(bundle(1, [{ path: a, content: '1', reload }, { path: b, content: '1', reload }]), EMPTY_STATE, deps);
    expect(first.reloads).toEqual([{ action: reload.command, ok: true }]);
    expect((await readFile(join(dir, 'reloads'), 'utf8')).trim().split('\n')).toHaveLength(1);
    const second = await applyBundle(bundle(2, [{ path: a, content: '1', reload }]), first.state, deps);
    expect(second.files).toEqual([{ path: a, result: 'unchanged' }, { path: b, result: 'removed' }]);
    await expect(stat(b)).rejects.toThrow(/ENOENT/);
    expect((await readFile(join(dir, 'reloads'), 'utf8')).trim().split('\n')).toHaveLength(2);
  });

  it('refuses to write outside the managed roots whatever the bundle says', async () => {
    await symlink(outside, join(root, 'escape'));
    const out = await applyBundle(
      bundle(1, [
        { path: join(outside, 'pwned'), content: 'x' },
        { path: join(root, 'escape/pwned'), content: 'x' },
        { path: join(root, 'fine'), content: 'x' },
      ]),
      EMPTY_STATE,
      deps,
    );
    expect(out.ok).toBe(false);
    expect(Object.fromEntries(out.files.map((f) => [f.path, f.result]))).toEqual({
      [join(outside, 'pwned')]: 'refused',
      [join(root, 'escape/pwned')]: 'refused',
      [join(root, 'fine')]: 'written',
    });
    expect(await readdir(outside)).toEqual([]);
  });

  it('refuses a bundle whose hash does not match its files, also when the same files were just applied', async () => {
    const b = bundle(1, [{ path: join(root, 'x'), content: 'x' }]);
    await expect(applyBundle({ ...b, hash: 'f'.repeat(64) }, EMPTY_STATE, deps)).rejects.toThrow(/hash/);
    // The digest of these files is now remembered; a second node must still have its claim checked.
    const ok = await applyBundle(b, EMPTY_STATE, deps);
    expect(ok.ok).toBe(true);
    await expect(applyBundle({ ...b, hash: 'e'.repeat(64) }, EMPTY_STATE, deps)).rejects.toThrow(/hash/);
    const other = bundle(2, [{ path: join(root, 'x'), content: 'y' }]);
    await expect(applyBundle({ ...other, hash: b.hash }, ok.state, deps)).rejects.toThrow(/hash/);
  });
});

describe('drift', () => {
  it('finds hand-edited and deleted files, and remediation rewrites them', async () => {
    const a = join(root, 'a');
    const b = join(root, 'b');
    const { state } = await applyBundle(bundle(1, [{ path: a, content: 'A' }, { path: b, content: 'B' }]), EMPTY_STATE, deps);
    expect(await findDrift(state, deps.store)).toEqual([]);
    await writeFile(a, 'edited');
    await rm(b);
    const drift = await findDrift(state, deps.store);
    expect(drift).toEqual([
      { path: a, expected: sha256Hex('A'), found: sha256Hex('edited'), kinds: ['content'] },
      { path: b, expected: sha256Hex('B'), found: 'missing', kinds: ['missing'] },
    ]);
    expect(await remediate(drift, state, deps)).toMatchObject({ repaired: [a, b], failed: [] });
    expect(await readFile(a, 'utf8')).toBe('A');
    expect(await readFile(b, 'utf8')).toBe('B');
    expect(await findDrift(state, deps.store)).toEqual([]);
  });

  it('finds a chmod as mode drift and repairs it in place, without rewriting the content or reloading', async () => {
    const path = join(root, 'app.conf');
    const reload = { kind: 'command' as const, command: 'true' };
    const { state } = await applyBundle(bundle(1, [{ path, content: 'port=80\n', mode: 0o640, reload }]), EMPTY_STATE, deps);
    await chmod(path, 0o777);
    const before = await stat(path);
    const drift = await findDrift(state, deps.store);
    expect(drift).toEqual([{ path, expected: sha256Hex('port=80\n'), found: sha256Hex('port=80\n'), kinds: ['mode'], expectedMode: '0640', foundMode: '0777' }]);
    ran = [];
    expect(await remediate(drift, state, deps)).toEqual({ repaired: [path], failed: [], reloads: [] });
    const after = await stat(path);
    expect(after.mode & 0o7777).toBe(0o640);
    expect(after.ino).toBe(before.ino);
    expect(after.mtimeMs).toBe(before.mtimeMs);
    expect(await readFile(path, 'utf8')).toBe('port=80\n');
    expect(ran).toEqual([]);
    expect(await findDrift(state, deps.store)).toEqual([]);
  });

  it('reports content and mode together and rewrites both, running the reload', async () => {
    const path = join(root, 'app.conf');
    const reload = { kind: 'command' as const, command: `echo reloaded >> ${join(dir, 'reloads')}` };
    const { state } = await applyBundle(bundle(1, [{ path, content: 'a', mode: 0o600, reload }]), EMPTY_STATE, deps);
    await writeFile(path, 'b');
    await chmod(path, 0o644);
    const drift = await findDrift(state, deps.store);
    expect(drift).toMatchObject([{ kinds: ['content', 'mode'], expectedMode: '0600', foundMode: '0644' }]);
    const out = await remediate(drift, state, deps);
    expect(out.reloads).toEqual([{ action: reload.command, ok: true }]);
    expect(await readFile(path, 'utf8')).toBe('a');
    expect((await stat(path)).mode & 0o7777).toBe(0o600);
    expect((await readFile(join(dir, 'reloads'), 'utf8')).trim().split('\n')).toHaveLength(2);
  });

  it('checks the owner only where the bundle named one, and chowns it back in place keeping set-id bits', async () => {
    const owned = join(root, 'owned');
    const userOnly = join(root, 'user-only');
    const free = join(root, 'free');
    const { state } = await applyBundle(
      bundle(1, [
        { path: owned, content: 'o', mode: 0o4750, owner: { user: '0', group: '0' } },
        { path: userOnly, content: 'u', owner: { user: 'root' } },
        { path: free, content: 'f' },
      ]),
      EMPTY_STATE,
      deps,
    );
    expect(state.files[owned]).toMatchObject({ uid: 0, gid: 0 });
    expect((await stat(owned)).mode & 0o7777).toBe(0o4750);
    expect(await findDrift(state, deps.store)).toEqual([]);
    expect(state.files[userOnly]).toMatchObject({ uid: 0 });
    expect(state.files[userOnly]).not.toHaveProperty('gid');
    expect(state.files[free]).not.toHaveProperty('uid');
    await chown(owned, 1234, 1234);
    await chmod(owned, 0o4750); // chown cleared the set-user-ID bit: this is owner drift only
    await chown(userOnly, 0, 1234);
    await chown(free, 1234, 1234);
    const before = await stat(owned);
    const drift = await findDrift(state, deps.store);
    expect(drift).toEqual([{ path: owned, expected: sha256Hex('o'), found: sha256Hex('o'), kinds: ['owner'], expectedOwner: { uid: 0, gid: 0 }, foundOwner: { uid: 1234, gid: 1234 } }]);
    expect(await remediate(drift, state, deps)).toMatchObject({ repaired: [owned], failed: [] });
    const after = await stat(owned);
    expect([after.uid, after.gid, after.mode & 0o7777, after.ino]).toEqual([0, 0, 0o4750, before.ino]);
    expect((await stat(free)).uid).toBe(1234);
    expect(await findDrift(state, deps.store)).toEqual([]);
  });

  it('never repairs through a path the guard refuses, such as a managed file replaced by a symlink', async () => {
    const path = join(root, 'app.conf');
    const target = join(outside, 'target');
    const { state } = await applyBundle(bundle(1, [{ path, content: 'x', mode: 0o644 }]), EMPTY_STATE, deps);
    await writeFile(target, 'x', { mode: 0o777 });
    await chmod(target, 0o777);
    await rm(path);
    await symlink(target, path);
    const drift = await findDrift(state, deps.store);
    expect(drift).toMatchObject([{ path, kinds: ['mode'], foundMode: '0777' }]);
    const out = await remediate(drift, state, deps);
    expect(out).toMatchObject({ repaired: [], failed: [{ path, message: expect.stringMatching(/symlink/) }] });
    expect((await stat(target)).mode & 0o7777).toBe(0o777);
  });

  it('does not restore content the agent no longer has: a file whose update failed its check keeps drifting', async () => {
    const path = join(root, 'app.conf');
    const first = await applyBundle(bundle(1, [{ path, content: 'good' }]), EMPTY_STATE, deps);
    const failed = await applyBundle(bundle(2, [{ path, content: 'bad', check: 'false' }]), first.state, deps);
    expect(failed.state.files[path].sha256).toBe(sha256Hex('good'));
    await writeFile(path, 'edited');
    const drift = await findDrift(failed.state, deps.store);
    expect(await remediate(drift, failed.state, deps)).toMatchObject({ failed: [{ path, message: expect.stringMatching(/does not hold/) }] });
    expect(await readFile(path, 'utf8')).toBe('edited');
  });

  it('loads a state file written before owners were remembered and still finds mode drift', async () => {
    const path = join(root, 'old.conf');
    const { state } = await applyBundle(bundle(1, [{ path, content: 'x', mode: 0o600, owner: { user: '0' } }]), EMPTY_STATE, deps);
    const files = { [path]: { sha256: state.files[path].sha256, mode: 0o600 } };
    await mkdir(join(dir, 'data'));
    await writeFile(join(dir, 'data/state.json'), JSON.stringify({ ...state, files }));
    const loaded = await new StateFile(join(dir, 'data'), true).load();
    expect(loaded.files).toEqual(files);
    await chown(path, 1234, 1234);
    await chmod(path, 0o666);
    expect(await findDrift(loaded, deps.store)).toMatchObject([{ path, kinds: ['mode'], expectedMode: '0600', foundMode: '0666' }]);
  });

  it('works in memory for simulated nodes', async () => {
    const mem: ApplierDeps = { store: new MemoryFileStore(), guard: new PathGuard(['/etc'], false), run: async () => null };
    const out = await applyBundle(bundle(1, [{ path: '/etc/x', content: 'x' }, { path: '/root/x', content: 'x' }]), EMPTY_STATE, mem);
    expect(out.files.map((f) => f.result)).toEqual(['written', 'refused']);
    const files = (mem.store as MemoryFileStore).files;
    expect(files.get('/etc/x')?.bytes.toString()).toBe('x');
    files.set('/etc/x', { ...files.get('/etc/x')!, mode: 0o777 });
    const drift = await findDrift(out.state, mem.store);
    expect(drift).toMatchObject([{ path: '/etc/x', kinds: ['mode'], foundMode: '0777' }]);
    await remediate(drift, out.state, mem);
    expect(files.get('/etc/x')?.mode).toBe(0o644);
  });
});
