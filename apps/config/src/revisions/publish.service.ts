import { Inject, Injectable } from '@nestjs/common';
import { FleetError, parseSelector } from '#contracts/common';
import { CONFIG_EVENTS, parseScopeKey, scopeKey, type Canary, type ConfigFile, type ConfigItem, type DiffChange, type RevisionView } from '#contracts/config';
import { Db } from '../database/data-source.js';
import { applyDrafts } from '../drafts/draft.service.js';
import { ConfigEvents } from '../events.js';
import { diffConfigSets } from '../logic/diff.js';
import { assertValid, validateConfigSet, type RegisteredSchema } from '../logic/validate.js';
import { DesiredStateService } from '../nodes/desired-state.service.js';
import { CONFIG_SETTINGS, type ConfigSettings } from '../settings.js';
import { RevisionStore, toView } from './revision-store.js';

type Q = <R = Record<string, unknown>>(text: string, values?: unknown[]) => Promise<R[]>;

export interface PublishResult {
  revision: RevisionView;
  canary: Canary | null;
}

/**
 * Publishing: staged drafts (or, for a rollback, an earlier revision's items) become the next
 * immutable revision. Everything happens in one transaction that holds the deployment row lock,
 * so concurrent publishes serialise, compare-and-set is exact, and a failing validation leaves
 * revisions, drafts and deployment untouched.
 */
@Injectable()
export class PublishService {
  constructor(
    @Inject(Db) private readonly db: Db,
    @Inject(RevisionStore) private readonly store: RevisionStore,
    @Inject(DesiredStateService) private readonly desired: DesiredStateService,
    @Inject(ConfigEvents) private readonly events: ConfigEvents,
    @Inject(CONFIG_SETTINGS) private readonly settings: ConfigSettings,
  ) {}

  async publish(input: { author: string; message: string; expectedRevision?: number; canary?: Canary }): Promise<PublishResult> {
    if (input.canary?.selector !== undefined) parseSelector(input.canary.selector);
    const result = await this.db.tx(async (q) => {
      const latest = await this.lockAndCheck(q, input.expectedRevision);
      const drafts = await q<{ scope: string; path: string; op: 'set' | 'remove'; file: ConfigFile | null }>('SELECT * FROM "config"."drafts"');
      if (drafts.length === 0) throw new FleetError('bad_request', 'nothing to publish: the draft is empty');
      const base = await this.store.items(latest);
      const items = applyDrafts(
        base,
        drafts.map((d) => ({ ...d, scope: parseScopeKey(d.scope), author: '', updatedAt: '' })),
      );
      await this.validate(q, items);
      const view = await this.insertRevision(q, latest + 1, items, input.author, input.message, null);
      await q('DELETE FROM "config"."drafts"');
      await this.deploy(q, view.revision, input.canary);
      return view;
    });
    await this.afterPublish(result, input.canary ?? null, CONFIG_EVENTS.published);
    return { revision: result, canary: input.canary ?? null };
  }

  /** Publishes revision `to`'s items again as a new revision; drafts are left alone. */
  async rollback(input: { to: number; author: string; message?: string; expectedRevision?: number }): Promise<PublishResult> {
    const items = await this.store.items(input.to);
    const result = await this.db.tx(async (q) => {
      const latest = await this.lockAndCheck(q, input.expectedRevision);
      await this.validate(q, items);
      const view = await this.insertRevision(q, latest + 1, items, input.author, input.message ?? `rollback to revision ${input.to}`, input.to);
      await this.deploy(q, view.revision, undefined);
      return view;
    });
    await this.afterPublish(result, null, CONFIG_EVENTS.rolledBack);
    return { revision: result, canary: null };
  }

  async promote(author: string): Promise<{ revision: number }> {
    const revision = await this.db.tx(async (q) => {
      const [d] = await q<{ canary_revision: number | null }>('SELECT "canary_revision" FROM "config"."deployment" WHERE "id" = 1 FOR UPDATE');
      if (d.canary_revision === null) throw new FleetError('conflict', 'no canary is in progress');
      await q(
        `UPDATE "config"."deployment" SET "stable_revision" = "canary_revision", "canary_revision" = NULL, "canary_previous" = NULL,
           "canary_selector" = NULL, "canary_percent" = NULL, "canary_started_at" = NULL, "generation" = "generation" + 1, "generation_at" = now() WHERE "id" = 1`,
      );
      return d.canary_revision;
    });
    this.desired.requestReconcile();
    void this.events.emit(CONFIG_EVENTS.canaryPromoted, { revision, author });
    return { revision };
  }

  /** Ends the canary; canary nodes return to the revision they had before it. */
  async abort(author: string): Promise<{ revision: number; restored: number }> {
    const out = await this.db.tx(async (q) => {
      const [d] = await q<{ canary_revision: number | null; stable_revision: number }>(
        'SELECT "canary_revision", "stable_revision" FROM "config"."deployment" WHERE "id" = 1 FOR UPDATE',
      );
      if (d.canary_revision === null) throw new FleetError('conflict', 'no canary is in progress');
      await q(
        `UPDATE "config"."deployment" SET "canary_revision" = NULL, "canary_previous" = NULL, "canary_selector" = NULL,
           "canary_percent" = NULL, "canary_started_at" = NULL, "generation" = "generation" + 1, "generation_at" = now() WHERE "id" = 1`,
      );
      return { revision: d.canary_revision, restored: d.stable_revision };
    });
    this.desired.requestReconcile();
    void this.events.emit(CONFIG_EVENTS.canaryAborted, { ...out, author });
    return out;
  }

  async diff(from: number, to: number): Promise<{ from: number; to: number; changes: DiffChange[] }> {
    const [a, b] = await Promise.all([this.store.items(from), this.store.items(to)]);
    return { from, to, changes: diffConfigSets(a, b) };
  }

  /** Dry run of what publishing the current draft would check. */
  async validateDraft(): Promise<{ valid: boolean; problems: unknown[] }> {
    const latest = await this.store.latest();
    const drafts = await this.db.query<{ scope: string; path: string; op: 'set' | 'remove'; file: ConfigFile | null }>('SELECT * FROM "config"."drafts"');
    const items = applyDrafts(await this.store.items(latest), drafts.map((d) => ({ ...d, scope: parseScopeKey(d.scope), author: '', updatedAt: '' })));
    const schemas = await this.db.query<RegisteredSchema>('SELECT "pattern", "schema" FROM "config"."schemas"');
    const problems = validateConfigSet(items, schemas, this.settings.limits);
    return { valid: problems.length === 0, problems };
  }

  private async lockAndCheck(q: Q, expected: number | undefined): Promise<number> {
    const [d] = await q<{ canary_revision: number | null }>('SELECT "canary_revision" FROM "config"."deployment" WHERE "id" = 1 FOR UPDATE');
    const [{ latest }] = await q<{ latest: number }>('SELECT coalesce(max("revision"), 0)::int AS latest FROM "config"."revisions"');
    if (expected !== undefined && expected !== latest) {
      throw new FleetError('revision_conflict', `expected revision ${expected} but the latest is ${latest}`, { expected, latest });
    }
    if (d.canary_revision !== null) {
      throw new FleetError('conflict', `revision ${d.canary_revision} is in canary; promote or abort it first`);
    }
    return latest;
  }

  private async validate(q: Q, items: ConfigItem[]): Promise<void> {
    const schemas = await q<RegisteredSchema>('SELECT "pattern", "schema" FROM "config"."schemas"');
    assertValid(validateConfigSet(items, schemas, this.settings.limits));
  }

  private async insertRevision(q: Q, revision: number, items: ConfigItem[], author: string, message: string, from: number | null): Promise<RevisionView> {
    const [row] = await q<Parameters<typeof toView>[0]>(
      `INSERT INTO "config"."revisions" ("revision", "author", "message", "item_count", "rolled_back_from")
       VALUES ($1, $2, $3, $4, $5) RETURNING *`,
      [revision, author, message, items.length, from],
    );
    if (items.length) {
      await q(
        `INSERT INTO "config"."revision_items" ("revision", "scope", "path", "file")
         SELECT $1, s, p, f::jsonb FROM unnest($2::text[], $3::text[], $4::text[]) AS t(s, p, f)`,
        [revision, items.map((i) => scopeKey(i.scope)), items.map((i) => i.file.path), items.map((i) => JSON.stringify(i.file))],
      );
    }
    return toView(row);
  }

  private async deploy(q: Q, revision: number, canary: Canary | undefined): Promise<void> {
    if (canary) {
      await q(
        `UPDATE "config"."deployment" SET "canary_revision" = $1, "canary_previous" = "stable_revision", "canary_selector" = $2,
           "canary_percent" = $3, "canary_started_at" = now(), "generation" = "generation" + 1, "generation_at" = now() WHERE "id" = 1`,
        [revision, canary.selector ?? null, canary.percent ?? null],
      );
    } else {
      await q(`UPDATE "config"."deployment" SET "stable_revision" = $1, "generation" = "generation" + 1, "generation_at" = now() WHERE "id" = 1`, [revision]);
    }
  }

  private async afterPublish(view: RevisionView, canary: Canary | null, event: string): Promise<void> {
    this.desired.requestReconcile();
    void this.events.emit(event, { ...view, canary });
    if (canary) void this.events.emit(CONFIG_EVENTS.canaryStarted, { revision: view.revision, canary });
  }
}
