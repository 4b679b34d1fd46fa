import { createHash } from 'node:crypto';
import type { ConfigFile } from './items.js';

/**
 * Canonical hashing, shared by the service (desired hash) and the agent (which recomputes it to
 * reject a corrupted or forged bundle). The serialization is JSON with object keys sorted at every
 * level, files sorted by path, and each file's content replaced by the sha256 of its bytes, so the
 * same bytes hash the same whether they were sent as text or base64. Optional fields that are
 * absent are omitted (never `null`), and the revision number is NOT part of the hash: republishing
 * identical content gives the same hash and agents have nothing to rewrite.
 */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export function contentBytes(file: Pick<ConfigFile, 'content' | 'encoding'>): Buffer {
  return file.encoding === 'base64' ? Buffer.from(file.content, 'base64') : Buffer.from(file.content, 'utf8');
}

export function contentHash(file: Pick<ConfigFile, 'content' | 'encoding'>): string {
  return sha256Hex(contentBytes(file));
}

export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** The canonical form of one file: what the hash covers. */
export function canonicalFile(file: ConfigFile): Record<string, unknown> {
  return {
    path: file.path,
    sha256: contentHash(file),
    mode: file.mode,
    owner: file.owner && (file.owner.user || file.owner.group) ? file.owner : undefined,
    reload: file.reload,
    check: file.check,
  };
}

export function bundleHash(files: readonly ConfigFile[]): string {
  const sorted = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return sha256Hex(canonicalJson(sorted.map(canonicalFile)));
}
