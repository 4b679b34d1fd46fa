import { UsageError } from './errors.js';

export interface LabelOps {
  set: Record<string, string>;
  remove: string[];
}

/**
 * `k=v` sets a label, `k-` removes it (kubectl's syntax). A key may not be both set and removed,
 * and a value may be empty (`k=`). Keys and values are checked by the server.
 */
export function parseLabelOps(words: readonly string[]): LabelOps {
  const ops: LabelOps = { set: {}, remove: [] };
  for (const word of words) {
    const eq = word.indexOf('=');
    if (eq > 0) {
      ops.set[word.slice(0, eq)] = word.slice(eq + 1);
    } else if (eq < 0 && word.length > 1 && word.endsWith('-')) {
      ops.remove.push(word.slice(0, -1));
    } else {
      throw new UsageError(`cannot read "${word}" as a label change: use key=value to set or key- to remove`);
    }
  }
  const both = ops.remove.filter((k) => k in ops.set);
  if (both.length) throw new UsageError(`label "${both[0]}" is both set and removed`);
  return ops;
}

/** As a JSON merge-patch for `labels`: null removes. */
export function toMergePatch(ops: LabelOps): Record<string, string | null> {
  return { ...ops.set, ...Object.fromEntries(ops.remove.map((k) => [k, null])) };
}
