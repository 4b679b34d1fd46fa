import { lstat, realpath } from 'node:fs/promises';
import { dirname } from 'node:path';
import { isInside, pathProblem } from '#contracts/config';

/**
 * The agent's own guard: a path from the server is written only when it is lexically inside a
 * managed root AND, once symlinks are resolved, the deepest existing directory on the way still
 * lies inside a managed root (so `/etc/app -> /root` cannot smuggle a write out). The file itself
 * must not be a symlink. Nothing the server sends can widen this.
 */
export class PathGuard {
  private realRoots?: Promise<string[]>;

  constructor(
    readonly roots: readonly string[],
    private readonly resolveSymlinks: boolean,
  ) {}

  /** `null` when the agent may write `path`, else why not. */
  async problem(path: string): Promise<string | null> {
    const lexical = pathProblem(path, this.roots);
    if (lexical) return `refused: ${lexical}`;
    if (!this.resolveSymlinks) return null;
    const realRoots = await (this.realRoots ??= Promise.all(this.roots.map((r) => realpath(r).catch(() => ''))));
    let dir = dirname(path);
    for (;;) {
      try {
        const real = await realpath(dir);
        if (!realRoots.some((root) => root !== '' && (real === root || isInside(real, root)))) {
          return `refused: ${dir} resolves to ${real}, outside the managed roots`;
        }
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return `refused: cannot resolve ${dir}: ${(err as Error).message}`;
        const parent = dirname(dir);
        if (parent === dir) return 'refused: no existing ancestor directory';
        dir = parent;
      }
    }
    try {
      const st = await lstat(path);
      if (st.isSymbolicLink()) return `refused: ${path} is a symlink`;
      if (!st.isFile()) return `refused: ${path} exists and is not a regular file`;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return `refused: ${(err as Error).message}`;
    }
    return null;
  }
}
