import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { z } from 'zod';
import { FleetError } from '#contracts/common';
import {
  UPDATER_EVENTS,
  compareVersions,
  createReleaseSchema,
  deadEndsSchema,
  flagNodesSchema,
  getReleaseSchema,
  graphRequestSchema,
  listReleasesSchema,
  type ReleaseView,
  type UpdateGraph,
} from '#contracts/updater';
import { UpdaterEvents } from '../common/updater-events.js';
import { decodeCursor, encodeCursor, isUniqueViolation, returning } from '../common/sql.js';
import { UPDATER_DB } from '../common/tokens.js';
import { buildGraph, warinessOf } from '../graph/graph-builder.js';
import { toGraphRelease, toReleaseView, type ReleaseRow } from './release-row.js';

const T = '"updater"."releases"';

/** Releases are immutable once published: the only change is withdrawing one. */
@Injectable()
export class ReleasesService {
  constructor(
    @Inject(UPDATER_DB) private readonly db: DataSource,
    private readonly events: UpdaterEvents,
  ) {}

  async create(input: z.output<typeof createReleaseSchema>): Promise<ReleaseView> {
    const id = randomUUID();
    const rollout = input.rollout === undefined ? { startAt: new Date().toISOString(), startValue: 0, durationMinutes: 0 } : input.rollout;
    let rows: ReleaseRow[];
    try {
      rows = await this.db.query(
        `INSERT INTO ${T} (id, version, channel, arch, payload_url, payload_sha256, payload_size, payload_signature, notes,
           barrier_reason, dead_end_reason, rollout_start, rollout_start_value, rollout_duration_minutes)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14)
         ON CONFLICT (channel, arch, version) DO NOTHING RETURNING *`,
        [
          id,
          input.version,
          input.channel,
          input.arch,
          input.payload.url,
          input.payload.sha256,
          input.payload.size,
          input.payload.signature,
          input.notes,
          input.barrier?.reason ?? null,
          input.deadEnd?.reason ?? null,
          rollout?.startAt ?? null,
          rollout?.startValue ?? null,
          rollout?.durationMinutes ?? null,
        ],
      );
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      rows = [];
    }
    if (rows.length === 0) {
      throw new FleetError('conflict', `release ${input.version} already exists on ${input.channel}/${input.arch}; releases are immutable`);
    }
    const view = toReleaseView(rows[0]);
    this.events.emit(UPDATER_EVENTS.releaseCreated, { id, version: view.version, channel: view.channel, arch: view.arch });
    return view;
  }

  async get(input: z.output<typeof getReleaseSchema>): Promise<ReleaseView> {
    const rows: ReleaseRow[] =
      'id' in input
        ? await this.db.query(`SELECT * FROM ${T} WHERE id = $1`, [input.id])
        : await this.db.query(`SELECT * FROM ${T} WHERE channel = $1 AND arch = $2 AND version = $3`, [input.channel, input.arch, input.version]);
    if (rows.length === 0) throw new FleetError('not_found', 'release not found');
    return toReleaseView(rows[0]);
  }

  async list(input: z.output<typeof listReleasesSchema>): Promise<{ items: ReleaseView[]; nextCursor: string | null }> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (input.channel) where.push(`channel = $${params.push(input.channel)}`);
    if (input.arch) where.push(`arch = $${params.push(input.arch)}`);
    if (!input.includeWithdrawn) where.push('withdrawn_at IS NULL');
    const after = decodeCursor(input.cursor, 2);
    if (after) where.push(`(created_at, id) < ($${params.push(after[0])}::timestamptz, $${params.push(after[1])}::uuid)`);
    const rows: ReleaseRow[] = await this.db.query(
      `SELECT * FROM ${T} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, id DESC LIMIT ${input.limit + 1}`,
      params,
    );
    const page = rows.slice(0, input.limit);
    const last = page[page.length - 1];
    return {
      items: page.map(toReleaseView),
      nextCursor: rows.length > input.limit && last ? encodeCursor([last.created_at.toISOString(), last.id]) : null,
    };
  }

  async withdraw(id: string, reason: string): Promise<ReleaseView> {
    const rows: ReleaseRow[] = await returning(this.db,
      `UPDATE ${T} SET withdrawn_at = COALESCE(withdrawn_at, now()), withdrawn_reason = COALESCE(withdrawn_reason, $2) WHERE id = $1 RETURNING *`,
      [id, reason],
    );
    if (rows.length === 0) throw new FleetError('not_found', `release ${id} not found`);
    const view = toReleaseView(rows[0]);
    // An open rollout of a withdrawn release must not reach more machines.
    await this.db.query(
      `UPDATE "updater"."rollouts" SET state = 'paused', reason = $2, updated_at = now() WHERE release_id = $1 AND state IN ('pending', 'running')`,
      [id, `release withdrawn: ${reason}`],
    );
    this.events.emit(UPDATER_EVENTS.releaseWithdrawn, { id, version: view.version, channel: view.channel, arch: view.arch, reason });
    return view;
  }

  async graph(input: z.output<typeof graphRequestSchema>): Promise<UpdateGraph> {
    const rows: ReleaseRow[] = await this.db.query(`SELECT * FROM ${T} WHERE channel = $1 AND arch = $2 AND withdrawn_at IS NULL`, [
      input.channel,
      input.arch,
    ]);
    const wariness = input.wariness ?? (input.nodeUuid ? warinessOf(input.nodeUuid) : undefined);
    const atMs = input.at ? Date.parse(input.at) : Date.now();
    return buildGraph(rows.map((r) => toGraphRelease(toReleaseView(r))), { atMs, wariness });
  }

  async deadEnds(input: z.output<typeof deadEndsSchema>) {
    const where = ['dead_end_reason IS NOT NULL'];
    const params: unknown[] = [];
    if (input.channel) where.push(`channel = $${params.push(input.channel)}`);
    if (input.arch) where.push(`arch = $${params.push(input.arch)}`);
    const rows: ReleaseRow[] = await this.db.query(`SELECT * FROM ${T} WHERE ${where.join(' AND ')} ORDER BY channel, arch`, params);
    const items = rows.map((r) => ({ channel: r.channel, arch: r.arch, version: r.version, reason: r.dead_end_reason! }));
    items.sort((a, b) => a.channel.localeCompare(b.channel) || a.arch.localeCompare(b.arch) || compareVersions(a.version, b.version));
    return { items };
  }

  async flagNodes(input: z.output<typeof flagNodesSchema>) {
    const { items: deadEnds } = await this.deadEnds({});
    const byKey = new Map(deadEnds.map((d) => [`${d.channel}\u0000${d.arch}\u0000${d.version}`, d.reason]));
    return {
      items: input.nodes.map((n) => {
        const reason = byKey.get(`${n.channel}\u0000${n.arch}\u0000${n.version}`);
        return { id: n.id, deadEnd: reason === undefined ? null : { reason } };
      }),
    };
  }

  /** The highest live release below `version` on the same channel and arch (rollback target). */
  async previousOf(release: ReleaseView): Promise<ReleaseView | null> {
    const rows: ReleaseRow[] = await this.db.query(`SELECT * FROM ${T} WHERE channel = $1 AND arch = $2 AND withdrawn_at IS NULL`, [
      release.channel,
      release.arch,
    ]);
    const lower = rows.map(toReleaseView).filter((r) => compareVersions(r.version, release.version) < 0);
    lower.sort((a, b) => compareVersions(b.version, a.version));
    return lower[0] ?? null;
  }
}

