import { digestBundle, type Bundle, type DigestedFile, type FileResult, type ReloadAction } from '#contracts/config';
import { resolveOwner, shellQuote, type FileStore, type OwnerIds } from './file-store.js';
import type { PathGuard } from './path-guard.js';

/** What the agent remembers about each file it manages: what it wrote, to find drift against. */
export interface ManagedFile {
  sha256: string;
  mode: number;
  /** The owner ids set, only when the bundle named an owner (absent in older state files). */
  uid?: number;
  gid?: number;
}

export function managedFile(sha256: string, mode: number, owner: OwnerIds | undefined): ManagedFile {
  return { sha256, mode, ...(owner?.uid !== undefined && { uid: owner.uid }), ...(owner?.gid !== undefined && { gid: owner.gid }) };
}

export interface ApplyState {
  revision: number;
  hash: string;
  ok: boolean;
  files: Record<string, ManagedFile>;
  /** The last bundle, so drifted files can be rewritten without asking the server. */
  bundle: Bundle | null;
}

export interface ReloadResult {
  action: string;
  ok: boolean;
  message?: string;
}

export interface ApplyOutcome {
  state: ApplyState;
  ok: boolean;
  files: FileResult[];
  reloads: ReloadResult[];
}

export interface ApplierDeps {
  store: FileStore;
  guard: PathGuard;
  /** Runs a shell command; `null` on success. Simulated nodes pass one that always succeeds. */
  run: (command: string) => Promise<string | null>;
}

export const EMPTY_STATE: ApplyState = { revision: -1, hash: '', ok: false, files: {}, bundle: null };

export function reloadKey(r: ReloadAction): string {
  return r.kind === 'systemd' ? `systemctl ${r.action} ${r.unit}` : r.command;
}

export function reloadCommand(r: ReloadAction): string {
  return r.kind === 'systemd' ? `systemctl ${r.action} ${shellQuote(r.unit)}` : r.command;
}

/**
 * Digests (decoded bytes, hashes) of recently applied bundles, keyed by their exact content: a
 * pure function of its input, so one answer serves every node of a simulator process (thousands
 * of virtual agents receiving the same bundle) and a real agent re-applying what it has.
 */
const recentDigests = new Map<string, ReturnType<typeof digestBundle>>();

function digestOnce(files: Bundle['files']): ReturnType<typeof digestBundle> {
  const key = JSON.stringify(files);
  let digest = recentDigests.get(key);
  if (!digest) {
    digest = digestBundle(files);
    if (recentDigests.size >= 8) recentDigests.delete(recentDigests.keys().next().value!);
    recentDigests.set(key, digest);
  }
  return digest;
}

/**
 * Applies a bundle: every file checked, written atomically or left alone, files no longer in the
 * bundle removed, each distinct reload action run once. Never writes or removes a path the guard
 * refuses. Returns the new state and the per-file results for the acknowledgement.
 */
export async function applyBundle(bundle: Bundle, previous: ApplyState, deps: ApplierDeps): Promise<ApplyOutcome> {
  const digest = digestOnce(bundle.files);
  if (digest.hash !== bundle.hash) throw new Error('bundle hash does not match its files; refusing it');
  const results: FileResult[] = [];
  const files: Record<string, ManagedFile> = {};
  const reloads = new Map<string, ReloadAction>();
  const wanted = new Set(bundle.files.map((f) => f.path));

  for (const digested of digest.files) {
    const file = digested.file;
    const refused = await deps.guard.problem(file.path);
    if (refused) {
      results.push({ path: file.path, result: 'refused', message: refused });
      continue;
    }
    try {
      const outcome = await writeOne(digested, deps);
      results.push(outcome.result);
      if (outcome.managed) files[file.path] = outcome.managed;
      else if (previous.files[file.path]) files[file.path] = previous.files[file.path];
      if (outcome.result.result === 'written' && file.reload) reloads.set(reloadKey(file.reload), file.reload);
    } catch (err) {
      results.push({ path: file.path, result: 'error', message: (err as Error).message.slice(0, 500) });
      if (previous.files[file.path]) files[file.path] = previous.files[file.path];
    }
  }

  const oldBundle = new Map((previous.bundle?.files ?? []).map((f) => [f.path, f]));
  for (const path of Object.keys(previous.files).sort()) {
    if (wanted.has(path)) continue;
    const refused = await deps.guard.problem(path);
    if (refused) {
      results.push({ path, result: 'refused', message: refused });
      continue;
    }
    try {
      await deps.store.remove(path);
      results.push({ path, result: 'removed' });
      const reload = oldBundle.get(path)?.reload;
      if (reload) reloads.set(reloadKey(reload), reload);
    } catch (err) {
      results.push({ path, result: 'error', message: (err as Error).message.slice(0, 500) });
      files[path] = previous.files[path];
    }
  }

  const reloadResults = await runReloads([...reloads.values()], deps);
  const ok = results.every((r) => r.result === 'written' || r.result === 'unchanged' || r.result === 'removed') && reloadResults.every((r) => r.ok);
  return { state: { revision: bundle.revision, hash: bundle.hash, ok, files, bundle }, ok, files: results, reloads: reloadResults };
}

async function writeOne({ file, bytes, sha256 }: DigestedFile, deps: ApplierDeps): Promise<{ result: FileResult; managed?: ManagedFile }> {
  const current = await deps.store.read(file.path);
  const owner = await resolveOwner(file.owner);
  const sameOwner = !owner || ((owner.uid === undefined || owner.uid === current?.uid) && (owner.gid === undefined || owner.gid === current?.gid));
  if (current && current.mode === file.mode && sameOwner && current.bytes.equals(bytes)) {
    return { result: { path: file.path, result: 'unchanged' }, managed: managedFile(sha256, file.mode, owner) };
  }
  const failed = await deps.store.write(
    file.path,
    bytes,
    file.mode,
    owner,
    file.check ? (temp) => deps.run(file.check!.replaceAll('{{src}}', shellQuote(temp))) : undefined,
  );
  if (failed) return { result: { path: file.path, result: 'check_failed', message: `check failed (${failed}); the old file was kept` } };
  return { result: { path: file.path, result: 'written' }, managed: managedFile(sha256, file.mode, owner) };
}

export async function runReloads(actions: ReloadAction[], deps: ApplierDeps): Promise<ReloadResult[]> {
  const out: ReloadResult[] = [];
  for (const action of actions) {
    const failed = await deps.run(reloadCommand(action));
    out.push(failed ? { action: reloadKey(action), ok: false, message: failed } : { action: reloadKey(action), ok: true });
  }
  return out;
}
