import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export interface OwnerIds {
  uid?: number;
  gid?: number;
}

export interface StoredFile {
  bytes: Buffer;
  mode: number;
  uid?: number;
  gid?: number;
}

/** Where managed files live: the real file system, or memory for a simulated node. */
export interface FileStore {
  read(path: string): Promise<StoredFile | null>;
  /**
   * Writes atomically. `check`, if given, runs against the new file before it replaces the old
   * one; a non-zero exit leaves the old file in place and returns the reason.
   */
  write(path: string, bytes: Buffer, mode: number, owner: OwnerIds | undefined, check?: (tempPath: string) => Promise<string | null>): Promise<string | null>;
  remove(path: string): Promise<void>;
  /**
   * Sets mode (and owner ids, if given) of an existing regular file in place, leaving its content
   * alone: the repair for drift of attributes only.
   */
  setAttributes(path: string, mode: number, owner: OwnerIds | undefined): Promise<void>;
}

/**
 * Disk writes that survive a crash at any point: a temp file in the same directory (so rename is
 * atomic), mode and owner set on it, fsync, then the check, then rename over the old file and
 * fsync of the directory so the rename itself is durable.
 */
export class DiskFileStore implements FileStore {
  async read(path: string): Promise<StoredFile | null> {
    try {
      const [bytes, st] = await Promise.all([readFile(path), stat(path)]);
      return { bytes, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  async write(path: string, bytes: Buffer, mode: number, owner: OwnerIds | undefined, check?: (tempPath: string) => Promise<string | null>): Promise<string | null> {
    const dir = dirname(path);
    await mkdir(dir, { recursive: true });
    const temp = join(dir, `.${basename(path)}.fleet-${randomBytes(4).toString('hex')}.tmp`);
    const fh = await open(temp, 'wx', 0o600);
    try {
      await fh.writeFile(bytes);
      // Owner before mode: a chown clears the set-user-ID and set-group-ID bits.
      if (owner && (owner.uid !== undefined || owner.gid !== undefined)) await fh.chown(owner.uid ?? -1, owner.gid ?? -1);
      await fh.chmod(mode);
      await fh.sync();
    } catch (err) {
      await fh.close();
      await unlink(temp).catch(() => undefined);
      throw err;
    }
    await fh.close();
    try {
      const failed = check ? await check(temp) : null;
      if (failed) {
        await unlink(temp).catch(() => undefined);
        return failed;
      }
      await rename(temp, path);
    } catch (err) {
      await unlink(temp).catch(() => undefined);
      throw err;
    }
    await fsyncDir(dir);
    return null;
  }

  async remove(path: string): Promise<void> {
    try {
      await unlink(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      return;
    }
    await fsyncDir(dirname(path));
  }

  async setAttributes(path: string, mode: number, owner: OwnerIds | undefined): Promise<void> {
    // Through a handle opened without following symlinks: a link swapped in after the guard
    // looked fails (ELOOP) instead of changing its target. O_NONBLOCK: a FIFO cannot hang us.
    const fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    try {
      if (!(await fh.stat()).isFile()) throw new Error(`${path} is not a regular file`);
      // Owner first: a chown clears the set-user-ID and set-group-ID bits the chmod then restores.
      if (owner && (owner.uid !== undefined || owner.gid !== undefined)) await fh.chown(owner.uid ?? -1, owner.gid ?? -1);
      await fh.chmod(mode);
      await fh.sync();
    } finally {
      await fh.close();
    }
  }
}

/** A simulated node's files: memory only, so 10,000 virtual nodes cost no disk I/O. */
export class MemoryFileStore implements FileStore {
  readonly files = new Map<string, StoredFile>();

  async read(path: string): Promise<StoredFile | null> {
    return this.files.get(path) ?? null;
  }

  async write(path: string, bytes: Buffer, mode: number, owner: OwnerIds | undefined): Promise<string | null> {
    this.files.set(path, { bytes, mode, ...owner });
    return null;
  }

  async remove(path: string): Promise<void> {
    this.files.delete(path);
  }

  async setAttributes(path: string, mode: number, owner: OwnerIds | undefined): Promise<void> {
    const file = this.files.get(path);
    if (!file) throw new Error(`${path} does not exist`);
    this.files.set(path, { ...file, mode, ...(owner?.uid !== undefined && { uid: owner.uid }), ...(owner?.gid !== undefined && { gid: owner.gid }) });
  }
}

export async function fsyncDir(dir: string): Promise<void> {
  const dh = await open(dir, 'r');
  try {
    await dh.sync();
  } catch {
    // Some file systems refuse fsync on a directory; the rename is atomic all the same.
  } finally {
    await dh.close();
  }
}

/** Runs `/bin/sh -c command`; resolves `null` on exit 0, else a short reason with stderr's tail. */
export function runShell(command: string, timeoutMs: number): Promise<string | null> {
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', command], { stdio: ['ignore', 'ignore', 'pipe'], timeout: timeoutMs, killSignal: 'SIGKILL' });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString('utf8')).slice(-500);
    });
    child.on('error', (err) => resolve(`could not run: ${err.message}`));
    child.on('close', (code, signal) => {
      if (code === 0) resolve(null);
      else resolve(`${signal ? `killed by ${signal}` : `exit ${code}`}${stderr.trim() ? `: ${stderr.trim()}` : ''}`);
    });
  });
}

/** Quotes a value for `/bin/sh`. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Resolves user/group names or numbers to ids via /etc/passwd and /etc/group. */
export async function resolveOwner(owner: { user?: string; group?: string } | undefined): Promise<OwnerIds | undefined> {
  if (!owner || (!owner.user && !owner.group)) return undefined;
  const lookup = async (file: string, name: string | undefined): Promise<number | undefined> => {
    if (name === undefined) return undefined;
    if (/^\d+$/.test(name)) return Number(name);
    const text = await readFile(file, 'utf8').catch(() => '');
    const line = text.split('\n').find((l) => l.split(':')[0] === name);
    if (!line) throw new Error(`unknown ${file.endsWith('passwd') ? 'user' : 'group'} "${name}"`);
    return Number(line.split(':')[2]);
  };
  return { uid: await lookup('/etc/passwd', owner.user), gid: await lookup('/etc/group', owner.group) };
}
