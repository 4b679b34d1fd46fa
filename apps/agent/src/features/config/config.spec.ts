import { mkdtemp, mkdir, readFile, rm, stat, symlink, writeFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bundleHash, configFileSchema, type Bundle, type ConfigFileInput } from '#contracts/config';
import { EMPTY_STATE, applyBundle, findDrift, remediate, type ApplierDeps } from './applier.js';
import { configFeatureSchema } from './config.js';
import { DiskFileStore, MemoryFileStore, runShell } from './file-store.js';
import { PathGuard } from './path-guard.js';

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

  it('refuses a bundle whose hash does not match its files', async () => {
    const b = bundle(1, [{ path: join(root, 'x'), content: 'x' }]);
    await expect(applyBundle({ ...b, hash: 'f'.repeat(64) }, EMPTY_STATE, deps)).rejects.toThrow(/hash/);
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
    expect(drift.map((d) => [d.path, d.found === 'missing'])).toEqual([
      [a, false],
      [b, true],
    ]);
    await remediate(drift, state, deps);
    expect(await readFile(a, 'utf8')).toBe('A');
    expect(await findDrift(state, deps.store)).toEqual([]);
  });

  it('works in memory for simulated nodes', async () => {
    const mem: ApplierDeps = { store: new MemoryFileStore(), guard: new PathGuard(['/etc'], false), run: async () => null };
    const out = await applyBundle(bundle(1, [{ path: '/etc/x', content: 'x' }, { path: '/root/x', content: 'x' }]), EMPTY_STATE, mem);
    expect(out.files.map((f) => f.result)).toEqual(['written', 'refused']);
    expect((mem.store as MemoryFileStore).files.get('/etc/x')?.bytes.toString()).toBe('x');
  });
});
