import { posix } from 'node:path';

/**
 * Path rules shared by the service (validation before publish) and the agent (its own guard): a
 * managed path is absolute, already normalized (no `.`/`..` segments, no `//`, no trailing `/`),
 * free of control characters, and strictly inside one of the allowed roots.
 */
export function pathProblem(path: string, roots: readonly string[]): string | null {
  if (typeof path !== 'string' || path.length === 0) return 'path is empty';
  if (!path.startsWith('/')) return 'path must be absolute';
  if (/[\x00-\x1f\x7f]/.test(path)) return 'path contains control characters';
  if (path.split('/').some((seg) => seg === '..' || seg === '.')) return 'path must not contain "." or ".." segments';
  if (posix.normalize(path) !== path || path.endsWith('/')) return 'path is not normalized';
  if (path.length > 1024) return 'path is longer than 1024 characters';
  if (!roots.some((root) => isInside(path, root))) return `path is outside the allowed roots (${roots.join(', ')})`;
  return null;
}

/** True when `path` is strictly below `root` (both absolute, normalized). */
export function isInside(path: string, root: string): boolean {
  const r = root === '/' ? '/' : root.replace(/\/+$/, '');
  if (r === '/') return path !== '/' && path.startsWith('/');
  return path.startsWith(`${r}/`) && path.length > r.length + 1;
}

/** Glob over absolute paths: `*` matches within one segment, `**` across segments, `?` one character. */
export function globToRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*' && pattern[i + 1] === '*') {
      if (pattern[i + 2] === '/') {
        re += '(?:.*/)?';
        i += 2;
      } else {
        re += '.*';
        i += 1;
      }
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}
