import { open, rename, mkdir, readFile, writeFile, unlink } from 'node:fs/promises';
import { dirname, join, basename } from 'node:path';
import { randomBytes } from 'node:crypto';

/**
 * Writes `contents` to `path` so a crash leaves either the old file or the new one, never a torn
 * one: temp file in the same directory, fsync, rename over, fsync the directory (so the rename
 * itself survives power loss). `durable: false` skips the fsyncs (simulator: thousands of nodes).
 */
export async function writeFileAtomic(path: string, contents: string | Uint8Array, durable = true): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  const temp = join(dir, `.${basename(path)}.${randomBytes(4).toString('hex')}.tmp`);
  if (!durable) {
    await writeFile(temp, contents);
  } else {
    const fh = await open(temp, 'w', 0o644);
    try {
      await fh.writeFile(contents);
      await fh.sync();
    } finally {
      await fh.close();
    }
  }
  try {
    await rename(temp, path);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw err;
  }
  if (durable) await fsyncDir(dir);
}

export async function fsyncDir(dir: string): Promise<void> {
  const dh = await open(dir, 'r');
  try {
    await dh.sync();
  } catch {
    // Some file systems refuse fsync on directories; the rename is still atomic there.
  } finally {
    await dh.close();
  }
}

/** Reads a JSON file; `undefined` when it does not exist. */
export async function readJsonFile(path: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as unknown;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
