import { scopeKey, type ConfigFile, type ConfigItem, type DiffChange } from '#contracts/config';
import { canonicalJson } from '#contracts/config';

const FIELDS = ['content', 'encoding', 'mode', 'owner', 'reload', 'check'] as const;

/** Changes from one config set to another, keyed by (scope, path), in a stable order. */
export function diffConfigSets(before: readonly ConfigItem[], after: readonly ConfigItem[]): DiffChange[] {
  const key = (i: ConfigItem) => `${scopeKey(i.scope)}\u0000${i.file.path}`;
  const a = new Map(before.map((i) => [key(i), i]));
  const b = new Map(after.map((i) => [key(i), i]));
  const changes: DiffChange[] = [];
  for (const k of [...new Set([...a.keys(), ...b.keys()])].sort()) {
    const x = a.get(k);
    const y = b.get(k);
    if (x && !y) changes.push({ scope: x.scope, path: x.file.path, change: 'removed', fields: [], before: x.file, after: null });
    else if (!x && y) changes.push({ scope: y.scope, path: y.file.path, change: 'added', fields: [], before: null, after: y.file });
    else if (x && y) {
      const fields = changedFields(x.file, y.file);
      if (fields.length) changes.push({ scope: y.scope, path: y.file.path, change: 'modified', fields, before: x.file, after: y.file });
    }
  }
  return changes;
}

export function changedFields(x: ConfigFile, y: ConfigFile): string[] {
  return FIELDS.filter((f) => canonicalJson(x[f] ?? null) !== canonicalJson(y[f] ?? null));
}
