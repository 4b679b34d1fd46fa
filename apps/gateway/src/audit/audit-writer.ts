import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { JsonLogger, counter } from '#lib/telemetry';
import { GATEWAY_DB, GATEWAY_ENV } from '../core/tokens.js';
import type { FinishedRequest } from '../core/request-context.js';
import type { GatewayEnv } from '../env.js';

const MUTATIONS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const MAX_PENDING = 50_000;
const FLUSH_AT = 500;
const PRUNE_EVERY_MS = 3_600_000;
/** Rows deleted per statement, so pruning a large backlog never holds long locks. */
const PRUNE_BATCH = 10_000;

const dropped = counter('fleet_gateway_audit_dropped_total', 'Audit rows dropped because the database was unreachable for too long');

export interface AuditRow {
  at: Date;
  tokenId: string | null;
  actor: string;
  role: string | null;
  method: string;
  path: string;
  status: number;
  requestId: string;
  ip: string | null;
}

/**
 * Every mutating request (POST/PUT/PATCH/DELETE), allowed or refused, becomes an audit row.
 * Rows are buffered and written with one multi-row INSERT per flush (every GATEWAY_FLUSH_MS or
 * at 500 rows), so the audit log costs no statement per request.
 */
@Injectable()
export class AuditWriter implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new JsonLogger('gateway', 'Audit');
  private pending: AuditRow[] = [];
  private timer?: NodeJS.Timeout;
  private pruneTimer?: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    @Inject(GATEWAY_DB) private readonly db: DataSource,
    @Inject(GATEWAY_ENV) private readonly env: GatewayEnv,
  ) {}

  onModuleInit(): void {
    this.timer = setInterval(() => void this.flush(), this.env.GATEWAY_FLUSH_MS);
    this.timer.unref();
    if (this.env.AUDIT_RETENTION_DAYS > 0) {
      this.pruneTimer = setInterval(() => void this.prune().catch(() => undefined), PRUNE_EVERY_MS);
      this.pruneTimer.unref();
    }
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    clearInterval(this.pruneTimer);
    await this.flush();
  }

  /**
   * Deletes rows older than AUDIT_RETENTION_DAYS, in batches. Any replica may run it: the deletes
   * are idempotent. Returns how many rows went.
   */
  async prune(): Promise<number> {
    const days = this.env.AUDIT_RETENTION_DAYS;
    if (days <= 0 || !this.db.isInitialized) return 0;
    let total = 0;
    for (;;) {
      const [, deleted]: [unknown, number] = await this.db.query(
        `DELETE FROM "gateway"."audit_log" WHERE id IN (
           SELECT id FROM "gateway"."audit_log" WHERE at < now() - make_interval(days => $1) LIMIT $2)`,
        [days, PRUNE_BATCH],
      );
      total += deleted;
      if (deleted < PRUNE_BATCH) break;
    }
    if (total > 0) this.logger.info('pruned audit rows', { rows: total, retention_days: days });
    return total;
  }

  /** Hook for the request-context middleware. */
  record({ req, res }: FinishedRequest): void {
    if (!MUTATIONS.has(req.method)) return;
    if (this.pending.length >= MAX_PENDING) {
      dropped.inc();
      return;
    }
    this.pending.push({
      at: new Date(),
      tokenId: req.principal?.tokenId ?? null,
      actor: req.principal?.name ?? 'anonymous',
      role: req.principal?.role ?? null,
      method: req.method,
      path: req.originalUrl.split('?')[0].slice(0, 2048),
      status: res.statusCode,
      requestId: req.requestId,
      ip: req.ip ?? null,
    });
    if (this.pending.length >= FLUSH_AT) void this.flush();
  }

  /** Writes what is buffered; concurrent calls queue behind each other. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.write());
    return this.flushing;
  }

  private async write(): Promise<void> {
    if (this.pending.length === 0 || !this.db.isInitialized) return;
    const batch = this.pending;
    this.pending = [];
    try {
      await this.db.query(
        `INSERT INTO "gateway"."audit_log" (at, token_id, actor, role, method, path, status, request_id, ip)
         SELECT * FROM unnest($1::timestamptz[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int[], $8::text[], $9::text[])`,
        [
          batch.map((r) => r.at.toISOString()),
          batch.map((r) => r.tokenId),
          batch.map((r) => r.actor),
          batch.map((r) => r.role),
          batch.map((r) => r.method),
          batch.map((r) => r.path),
          batch.map((r) => r.status),
          batch.map((r) => r.requestId),
          batch.map((r) => r.ip),
        ],
      );
    } catch (err) {
      // Keep the rows for the next flush; the cap above bounds memory if the database stays away.
      this.pending = batch.concat(this.pending).slice(0, MAX_PENDING);
      this.logger.warn('could not write audit rows; will retry', { rows: batch.length, error: (err as Error).message });
    }
  }
}
