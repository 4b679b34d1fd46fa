import { randomUUID } from 'node:crypto';
import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { FleetError } from '#contracts/common';
import { JsonLogger } from '#lib/telemetry';
import { GATEWAY_DB, GATEWAY_ENV, type Principal } from '../core/tokens.js';
import type { GatewayEnv } from '../env.js';
import type { Role } from '../auth/roles.js';
import { displayPrefix, generateSecret, hashSecret } from './token-secret.js';
import { BOOTSTRAP_TOKEN_NAME, type CreateTokenBody, type TokenView } from './tokens.dto.js';

/** How long a verified token is trusted without asking the database again (revocation by another replica takes up to this long). */
const CACHE_MS = 5000;

interface Cached {
  /** null: no live token has this hash (cached too, so repeated bad tokens do not each cost a query). */
  principal: Principal | null;
  expiresAt: number | null;
  until: number;
}

@Injectable()
export class TokensService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new JsonLogger('gateway', 'Tokens');
  private readonly cache = new Map<string, Cached>();
  /** Token id → last use, written in one statement per flush rather than one per request. */
  private readonly lastUsed = new Map<string, Date>();
  private timer?: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    @Inject(GATEWAY_DB) private readonly db: DataSource,
    @Inject(GATEWAY_ENV) private readonly env: GatewayEnv,
  ) {}

  onModuleInit(): void {
    this.timer = setInterval(() => void this.flushLastUsed(), this.env.GATEWAY_FLUSH_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.flushLastUsed();
  }

  /** The principal a bearer secret stands for, or null when it is unknown, revoked or expired. */
  async authenticate(secret: string): Promise<Principal | null> {
    const hash = hashSecret(secret);
    const key = hash.toString('hex');
    const now = Date.now();
    let entry = this.cache.get(key);
    if (!entry || entry.until < now) {
      let rows: Array<{ id: string; name: string; role: Role; expires_at: Date | null }>;
      try {
        rows = await this.db.query(
          `SELECT id, name, role, expires_at FROM "gateway"."tokens" WHERE hash = $1 AND revoked_at IS NULL`,
          [hash],
        );
      } catch (err) {
        // Without the token store no request can be authorised: a 503 the client may retry, not a 500.
        this.logger.warn('token lookup failed', { error: (err as Error).message });
        throw new FleetError('unavailable', 'the token store (PostgreSQL) is unavailable; try again shortly');
      }
      const row = rows[0];
      entry = {
        principal: row ? { tokenId: row.id, name: row.name, role: row.role } : null,
        expiresAt: row?.expires_at ? row.expires_at.getTime() : null,
        until: now + CACHE_MS,
      };
      if (this.cache.size > 10_000) this.cache.clear();
      this.cache.set(key, entry);
    }
    if (!entry.principal) return null;
    if (entry.expiresAt !== null && entry.expiresAt <= now) return null;
    this.lastUsed.set(entry.principal.tokenId, new Date(now));
    return entry.principal;
  }

  async create(input: CreateTokenBody, createdBy: string | null): Promise<TokenView & { token: string }> {
    const secret = generateSecret();
    const expiresAt = input.expiresInSeconds ? new Date(Date.now() + input.expiresInSeconds * 1000) : null;
    try {
      const view = await this.insert(this.db, { name: input.name, role: input.role, secret, expiresAt, createdBy });
      return { ...view, token: secret };
    } catch (err) {
      if ((err as { code?: string }).code === '23505') {
        throw new FleetError('conflict', `a live token named "${input.name}" already exists`);
      }
      throw err;
    }
  }

  async list(includeRevoked: boolean): Promise<TokenView[]> {
    const rows: TokenRow[] = await this.db.query(
      `SELECT * FROM "gateway"."tokens" ${includeRevoked ? '' : 'WHERE revoked_at IS NULL'} ORDER BY created_at, id`,
    );
    return rows.map(toView);
  }

  /** Revokes a token. The last live admin token cannot be revoked: nobody could make another. */
  async revoke(id: string): Promise<TokenView> {
    return this.db.transaction(async (tx) => {
      await tx.query(`SELECT pg_advisory_xact_lock(hashtext('fleetcore:gateway:tokens'))`);
      const rows: TokenRow[] = await tx.query(`SELECT * FROM "gateway"."tokens" WHERE id = $1`, [id]);
      const row = rows[0];
      if (!row || row.revoked_at) throw new FleetError('not_found', `no live token with id ${id}`);
      if (row.role === 'admin') {
        const [{ n }] = await tx.query(
          `SELECT count(*)::int AS n FROM "gateway"."tokens" WHERE role = 'admin' AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())`,
        );
        if (n <= 1) throw new FleetError('conflict', 'refusing to revoke the last live admin token; create another admin token first');
      }
      // TypeORM answers an UPDATE … RETURNING on PostgreSQL with [rows, affected].
      const [[updated]]: [TokenRow[], number] = await tx.query(
        `UPDATE "gateway"."tokens" SET revoked_at = now() WHERE id = $1 RETURNING *`,
        [id],
      );
      for (const [key, c] of this.cache) if (c.principal?.tokenId === id) this.cache.delete(key);
      return toView(updated);
    });
  }

  /**
   * First-start bootstrap. With `FLEET_ADMIN_TOKEN`, that secret is made a live admin token
   * (re-activated if it had been revoked: the environment is the operator's word). Without it,
   * when no live admin token exists, one is generated and printed once to stdout.
   */
  async bootstrap(): Promise<{ generated?: string }> {
    const fixed = this.env.FLEET_ADMIN_TOKEN;
    return this.db.transaction(async (tx) => {
      await tx.query(`SELECT pg_advisory_xact_lock(hashtext('fleetcore:gateway:tokens'))`);
      if (fixed) {
        const hash = hashSecret(fixed);
        const found: TokenRow[] = await tx.query(`SELECT * FROM "gateway"."tokens" WHERE hash = $1`, [hash]);
        if (found[0]) {
          await tx.query(
            `UPDATE "gateway"."tokens" SET role = 'admin', revoked_at = NULL, expires_at = NULL WHERE id = $1`,
            [found[0].id],
          );
        } else {
          await tx.query(`UPDATE "gateway"."tokens" SET revoked_at = now() WHERE name = $1 AND revoked_at IS NULL`, [BOOTSTRAP_TOKEN_NAME]);
          await this.insert(tx, { name: BOOTSTRAP_TOKEN_NAME, role: 'admin', secret: fixed, expiresAt: null, createdBy: 'FLEET_ADMIN_TOKEN' });
        }
        return {};
      }
      const [{ n }] = await tx.query(
        `SELECT count(*)::int AS n FROM "gateway"."tokens" WHERE role = 'admin' AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())`,
      );
      if (n > 0) return {};
      const secret = generateSecret();
      await tx.query(`UPDATE "gateway"."tokens" SET revoked_at = now() WHERE name = $1 AND revoked_at IS NULL`, [BOOTSTRAP_TOKEN_NAME]);
      await this.insert(tx, { name: BOOTSTRAP_TOKEN_NAME, role: 'admin', secret, expiresAt: null, createdBy: 'first start' });
      return { generated: secret };
    });
  }

  /** Writes buffered last-use times; calls queue behind each other so shutdown waits for a running flush. */
  flushLastUsed(): Promise<void> {
    this.flushing = this.flushing.then(() => this.writeLastUsed());
    return this.flushing;
  }

  private async writeLastUsed(): Promise<void> {
    if (this.lastUsed.size === 0 || !this.db.isInitialized) return;
    const batch = [...this.lastUsed];
    this.lastUsed.clear();
    try {
      await this.db.query(
        `UPDATE "gateway"."tokens" t SET last_used_at = GREATEST(t.last_used_at, v.at)
           FROM unnest($1::uuid[], $2::timestamptz[]) AS v(id, at) WHERE t.id = v.id`,
        [batch.map(([id]) => id), batch.map(([, at]) => at.toISOString())],
      );
    } catch (err) {
      this.logger.warn('could not record token use', { error: (err as Error).message });
    }
  }

  private async insert(
    runner: Pick<DataSource, 'query'>,
    t: { name: string; role: Role; secret: string; expiresAt: Date | null; createdBy: string | null },
  ): Promise<TokenView> {
    const [row]: TokenRow[] = await runner.query(
      `INSERT INTO "gateway"."tokens" (id, name, role, hash, prefix, expires_at, created_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *`,
      [randomUUID(), t.name, t.role, hashSecret(t.secret), displayPrefix(t.secret), t.expiresAt, t.createdBy],
    );
    return toView(row);
  }
}

interface TokenRow {
  id: string;
  name: string;
  role: Role;
  prefix: string;
  created_at: Date;
  created_by: string | null;
  last_used_at: Date | null;
  expires_at: Date | null;
  revoked_at: Date | null;
}

function toView(row: TokenRow): TokenView {
  const iso = (d: Date | null) => (d ? d.toISOString() : null);
  return {
    id: row.id,
    name: row.name,
    role: row.role,
    prefix: row.prefix,
    createdAt: row.created_at.toISOString(),
    createdBy: row.created_by,
    lastUsedAt: iso(row.last_used_at),
    expiresAt: iso(row.expires_at),
    revokedAt: iso(row.revoked_at),
  };
}
