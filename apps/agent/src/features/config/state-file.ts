import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { bundleSchema } from '#contracts/config';
import { EMPTY_STATE, type ApplyState } from './applier.js';
import { DiskFileStore } from './file-store.js';

/**
 * The feature's memory across restarts, `<dataDir>/config/state.json`: which files it manages
 * (so it can remove them and detect drift) and the last bundle. Written atomically; simulated
 * nodes keep it in memory only.
 */
export class StateFile {
  private memory: ApplyState = EMPTY_STATE;
  private readonly disk = new DiskFileStore();

  constructor(
    private readonly dir: string,
    private readonly persistent: boolean,
  ) {}

  get path(): string {
    return join(this.dir, 'state.json');
  }

  async load(): Promise<ApplyState> {
    if (!this.persistent) return this.memory;
    try {
      const raw = JSON.parse(await readFile(this.path, 'utf8')) as ApplyState;
      return { ...EMPTY_STATE, ...raw, bundle: raw.bundle ? bundleSchema.parse(raw.bundle) : null };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return EMPTY_STATE;
      throw new Error(`cannot read ${this.path}: ${(err as Error).message}`);
    }
  }

  async save(state: ApplyState): Promise<void> {
    this.memory = state;
    if (this.persistent) await this.disk.write(this.path, Buffer.from(JSON.stringify(state)), 0o600, undefined);
  }
}
