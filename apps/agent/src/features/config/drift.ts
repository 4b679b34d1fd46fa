import { contentBytes, contentHash, driftKinds, formatMode, sha256Hex, type DriftEntry, type DriftKind, type DriftOwner, type ReloadAction } from '#contracts/config';
import { reloadKey, runReloads, type ApplierDeps, type ApplyState, type ManagedFile, type ReloadResult } from './applier.js';
import type { FileStore, OwnerIds, StoredFile } from './file-store.js';

/**
 * Compares every managed file with what the agent wrote: content (sha256), presence, permission
 * bits, and owner ids where the bundle named an owner. Sorted by path, so an unchanged set of
 * drifted files serializes the same way every time.
 */
export async function findDrift(state: ApplyState, store: FileStore): Promise<DriftEntry[]> {
  const drift: DriftEntry[] = [];
  for (const [path, managed] of Object.entries(state.files).sort(([a], [b]) => (a < b ? -1 : 1))) {
    const current = await store.read(path).catch(() => null);
    const entry = current ? compare(path, managed, current) : { path, expected: managed.sha256, found: 'missing', kinds: ['missing' as const] };
    if (entry) drift.push(entry);
  }
  return drift;
}

function compare(path: string, managed: ManagedFile, current: StoredFile): DriftEntry | null {
  const found = sha256Hex(current.bytes);
  const kinds: DriftKind[] = [];
  const details: Partial<DriftEntry> = {};
  if (found !== managed.sha256) kinds.push('content');
  const mode = current.mode & 0o7777;
  // State files from before modes were compared always held one, but a hand-edited one may not.
  if (typeof managed.mode === 'number' && mode !== managed.mode) {
    kinds.push('mode');
    Object.assign(details, { expectedMode: formatMode(managed.mode), foundMode: formatMode(mode) });
  }
  const owner = ownerDrift(managed, current);
  if (owner) {
    kinds.push('owner');
    Object.assign(details, owner);
  }
  return kinds.length ? { path, expected: managed.sha256, found, kinds, ...details } : null;
}

/** Only the ids the bundle named are compared, and only when the store knows the file's owner. */
function ownerDrift(managed: ManagedFile, current: StoredFile): { expectedOwner: DriftOwner; foundOwner: DriftOwner } | null {
  const expectedOwner: DriftOwner = {};
  const foundOwner: DriftOwner = {};
  let differs = false;
  for (const id of ['uid', 'gid'] as const) {
    const want = managed[id];
    if (want === undefined) continue;
    expectedOwner[id] = want;
    foundOwner[id] = current[id];
    if (current[id] !== undefined && current[id] !== want) differs = true;
  }
  return differs ? { expectedOwner, foundOwner } : null;
}

export interface RemediationOutcome {
  /** Paths put back as they were written. */
  repaired: string[];
  /** Paths left drifted, and why. */
  failed: Array<{ path: string; message: string }>;
  reloads: ReloadResult[];
}

/**
 * Puts drifted files back as they were written. A file whose content is unchanged gets its mode
 * and owner set in place (no rewrite, no reload); one whose content changed or that is gone is
 * rewritten atomically from the last bundle and its reload action runs. The content comes from
 * the bundle only when it is what was written (its check passed then): a file whose last update
 * failed its check still holds older content that the agent no longer has, so it is left alone.
 * Every path goes through the guard first.
 */
export async function remediate(drift: DriftEntry[], state: ApplyState, deps: ApplierDeps): Promise<RemediationOutcome> {
  const byPath = new Map((state.bundle?.files ?? []).map((f) => [f.path, f]));
  const reloads = new Map<string, ReloadAction>();
  const out: RemediationOutcome = { repaired: [], failed: [], reloads: [] };
  for (const d of drift) {
    const managed = state.files[d.path];
    if (!managed) continue;
    try {
      const refused = await deps.guard.problem(d.path);
      if (refused) throw new Error(refused);
      const owner: OwnerIds | undefined = managed.uid !== undefined || managed.gid !== undefined ? { uid: managed.uid, gid: managed.gid } : undefined;
      const kinds = driftKinds(d);
      if (kinds.includes('content') || kinds.includes('missing')) {
        const file = byPath.get(d.path);
        if (!file || contentHash(file) !== managed.sha256) throw new Error('the last bundle does not hold the content that was written');
        await deps.store.write(d.path, contentBytes(file), managed.mode, owner);
        if (file.reload) reloads.set(reloadKey(file.reload), file.reload);
      } else {
        await deps.store.setAttributes(d.path, managed.mode, owner);
      }
      out.repaired.push(d.path);
    } catch (err) {
      out.failed.push({ path: d.path, message: (err as Error).message.slice(0, 500) });
    }
  }
  out.reloads = await runReloads([...reloads.values()], deps);
  return out;
}
