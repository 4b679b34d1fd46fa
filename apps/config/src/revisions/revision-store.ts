import { Inject, Injectable } from '@nestjs/common';
import { FleetError } from '#contracts/common';
import { configFileSchema, parseScopeKey, type ConfigFile, type ConfigItem, type RevisionView } from '#contracts/config';
import { Db } from '../database/data-source.js';
import { CompiledConfigSet, sortItems } from '../logic/merge.js';

interface RevisionRow {
  revision: number;
  author: string;
  message: string;
  created_at: Date;
  item_count: number;
  rolled_back_from: number | null;
}

export interface DeploymentState {
  stableRevision: number;
  /** Bumped by every change of the deployment; see `reconciledGeneration`. */
  generation: number;
  /** The generation whose desired rows were all written (they lag while it is lower). */
  reconciledGeneration: number;
  generationAt: Date;
  canary: { revision: number; previousRevision: number; selector: string | null; percent: number | null; startedAt: Date } | null;
}

/**
 * Reads revisions. A revision never changes once written, so its items and its compiled merge
 * are cached for the life of the process (bounded to the most recent few).
 */
@Injectable()
export class RevisionStore {
  private readonly cache = new Map<number, Promise<{ items: ConfigItem[]; compiled: CompiledConfigSet }>>();

  constructor(@Inject(Db) private readonly db: Db) {}

  async items(revision: number): Promise<ConfigItem[]> {
    return (await this.load(revision)).items;
  }

  async compiled(revision: number): Promise<CompiledConfigSet> {
    return (await this.load(revision)).compiled;
  }

  private load(revision: number): Promise<{ items: ConfigItem[]; compiled: CompiledConfigSet }> {
    let hit = this.cache.get(revision);
    if (!hit) {
      hit = this.fetch(revision);
      hit.catch(() => this.cache.delete(revision));
      this.cache.set(revision, hit);
      if (this.cache.size > 16) this.cache.delete(this.cache.keys().next().value as number);
    }
    return hit;
  }

  private async fetch(revision: number): Promise<{ items: ConfigItem[]; compiled: CompiledConfigSet }> {
    if (revision === 0) return { items: [], compiled: new CompiledConfigSet([]) };
    const exists = await this.db.query('SELECT 1 FROM "config"."revisions" WHERE "revision" = $1', [revision]);
    if (exists.length === 0) throw new FleetError('not_found', `revision ${revision} does not exist`);
    const rows = await this.db.query<{ scope: string; file: ConfigFile }>(
      'SELECT "scope", "file" FROM "config"."revision_items" WHERE "revision" = $1',
      [revision],
    );
    const items = sortItems(rows.map((r) => ({ scope: parseScopeKey(r.scope), file: configFileSchema.parse(r.file) })));
    return { items, compiled: new CompiledConfigSet(items) };
  }

  async latest(): Promise<number> {
    const [row] = await this.db.query<{ latest: number }>('SELECT coalesce(max("revision"), 0)::int AS latest FROM "config"."revisions"');
    return row.latest;
  }

  async get(revision: number): Promise<RevisionView> {
    const [row] = await this.db.query<RevisionRow>('SELECT * FROM "config"."revisions" WHERE "revision" = $1', [revision]);
    if (!row) throw new FleetError('not_found', `revision ${revision} does not exist`);
    return toView(row);
  }

  async list(limit: number, before?: number): Promise<RevisionView[]> {
    const rows = await this.db.query<RevisionRow>(
      'SELECT * FROM "config"."revisions" WHERE ($1::int IS NULL OR "revision" < $1) ORDER BY "revision" DESC LIMIT $2',
      [before ?? null, limit],
    );
    return rows.map(toView);
  }

  async deployment(): Promise<DeploymentState> {
    const [d] = await this.db.query<{
      stable_revision: number;
      canary_revision: number | null;
      canary_previous: number | null;
      canary_selector: string | null;
      canary_percent: number | null;
      canary_started_at: Date | null;
      generation: number;
      reconciled_generation: number;
      generation_at: Date;
    }>('SELECT * FROM "config"."deployment" WHERE "id" = 1');
    return {
      stableRevision: d.stable_revision,
      generation: d.generation,
      reconciledGeneration: d.reconciled_generation,
      generationAt: d.generation_at,
      canary:
        d.canary_revision === null
          ? null
          : {
              revision: d.canary_revision,
              previousRevision: d.canary_previous ?? 0,
              selector: d.canary_selector,
              percent: d.canary_percent,
              startedAt: d.canary_started_at ?? new Date(),
            },
    };
  }
}

export function toView(row: RevisionRow): RevisionView {
  return {
    revision: row.revision,
    author: row.author,
    message: row.message,
    createdAt: row.created_at.toISOString(),
    itemCount: row.item_count,
    rolledBackFrom: row.rolled_back_from,
  };
}
