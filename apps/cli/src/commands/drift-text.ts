import { driftKinds, type DriftEntry, type DriftOwner } from '#contracts/config';

/** `1000:1000`, or `uid 1000` / `gid 1000` when the bundle named only a user or only a group. */
function ownerText(o: DriftOwner | undefined): string {
  if (o?.uid !== undefined && o.gid !== undefined) return `${o.uid}:${o.gid}`;
  if (o?.uid !== undefined) return `uid ${o.uid}`;
  if (o?.gid !== undefined) return `gid ${o.gid}`;
  return '?';
}

/**
 * What drifted in one file, found value first: `mode 0777, expected 0644`. Entries from agents
 * that compare content only read as content or missing.
 */
export function describeDrift(d: DriftEntry): string {
  return driftKinds(d)
    .map((kind) => {
      switch (kind) {
        case 'missing':
          return 'missing';
        case 'content':
          return `content ${d.found.slice(0, 12)}, expected ${d.expected.slice(0, 12)}`;
        case 'mode':
          return `mode ${d.foundMode ?? '?'}, expected ${d.expectedMode ?? '?'}`;
        case 'owner':
          return `owner ${ownerText(d.foundOwner)}, expected ${ownerText(d.expectedOwner)}`;
      }
    })
    .join('; ');
}
