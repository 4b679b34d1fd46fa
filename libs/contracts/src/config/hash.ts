import { hash } from 'node:crypto';
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
  // One-shot hash: several times cheaper than createHash() for the small inputs config files are.
  return hash('sha256', data, 'hex');
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

/** The canonical form of one file: what the hash covers (`sha256`: of its bytes, if known). */
export function canonicalFile(file: ConfigFile, sha256 = contentHash(file)): Record<string, unknown> {
  return {
    path: file.path,
    sha256,
    mode: file.mode,
    owner: file.owner && (file.owner.user || file.owner.group) ? file.owner : undefined,
    reload: file.reload,
    check: file.check,
  };
}

export function bundleHash(files: readonly ConfigFile[]): string {
  return digestBundle(files).hash;
}

/** A file with its decoded bytes and their sha256, so nothing downstream decodes or hashes twice. */
export interface DigestedFile {
  file: ConfigFile;
  bytes: Buffer;
  sha256: string;
}

/** The bundle hash and every file digested along the way, sorted by path. */
export function digestBundle(files: readonly ConfigFile[]): { hash: string; files: DigestedFile[] } {
  const digested = files
    .map((file) => {
      const bytes = contentBytes(file);
      return { file, bytes, sha256: sha256Hex(bytes) };
    })
    .sort((a, b) => (a.file.path < b.file.path ? -1 : a.file.path > b.file.path ? 1 : 0));
  return { hash: sha256Hex(canonicalJson(digested.map((d) => canonicalFile(d.file, d.sha256)))), files: digested };
}
