import { Inject, Injectable } from '@nestjs/common';
import { FleetError } from '#contracts/common';
import { parseScopeKey, pathProblem, scopeKey, type ConfigFile, type ConfigItem, type DraftView, type Scope } from '#contracts/config';
import { Db } from '../database/data-source.js';
import { CONFIG_SETTINGS, type ConfigSettings } from '../settings.js';

interface DraftRow {
  scope: string;
  path: string;
  op: 'set' | 'remove';
  file: ConfigFile | null;
  author: string;
  updated_at: Date;
}

/**
 * Staged edits: `set` and `remove` per (scope, path), published together as one revision. Path
 * rules are checked at once so an obviously bad path never sits in the draft; the full
 * validation (syntax, schemas, sizes) runs on the whole set at publish.
 */
@Injectable()
export class DraftService {
  constructor(
    @Inject(Db) private readonly db: Db,
    @Inject(CONFIG_SETTINGS) private readonly settings: ConfigSettings,
  ) {}

  async set(scope: Scope, file: ConfigFile, author: string): Promise<DraftView> {
    const problem = pathProblem(file.path, this.settings.limits.roots);
    if (problem) throw new FleetError('validation_failed', `${file.path}: ${problem}`);
    return this.upsert(scope, file.path, 'set', file, author);
  }

  async remove(scope: Scope, path: string, author: string): Promise<DraftView> {
    return this.upsert(scope, path, 'remove', null, author);
  }

  async list(): Promise<DraftView[]> {
    const rows = await this.db.query<DraftRow>('SELECT * FROM "config"."drafts" ORDER BY "path", "scope"');
    return rows.map(toView);
  }

  async discard(): Promise<{ discarded: number }> {
    const rows = await this.db.query('DELETE FROM "config"."drafts" RETURNING 1');
    return { discarded: rows.length };
  }

  private async upsert(scope: Scope, path: string, op: 'set' | 'remove', file: ConfigFile | null, author: string): Promise<DraftView> {
    const [row] = await this.db.query<DraftRow>(
      `INSERT INTO "config"."drafts" ("scope", "path", "op", "file", "author", "updated_at")
       VALUES ($1, $2, $3, $4::jsonb, $5, now())
       ON CONFLICT ("scope", "path") DO UPDATE SET "op" = EXCLUDED."op", "file" = EXCLUDED."file",
         "author" = EXCLUDED."author", "updated_at" = now()
       RETURNING *`,
      [scopeKey(scope), path, op, file === null ? null : JSON.stringify(file), author],
    );
    return toView(row);
  }
}

/** Applies staged drafts on top of a revision's items. */
export function applyDrafts(items: readonly ConfigItem[], drafts: readonly DraftView[]): ConfigItem[] {
  const key = (scope: Scope, path: string) => `${scopeKey(scope)}\u0000${path}`;
  const merged = new Map(items.map((i) => [key(i.scope, i.file.path), i]));
  for (const d of drafts) {
    if (d.op === 'remove') merged.delete(key(d.scope, d.path));
    else if (d.file) merged.set(key(d.scope, d.path), { scope: d.scope, file: d.file });
  }
  return [...merged.values()];
}

function toView(row: DraftRow): DraftView {
  return { scope: parseScopeKey(row.scope), path: row.path, op: row.op, file: row.file, author: row.author, updatedAt: row.updated_at.toISOString() };
}
