import type { DataSource, QueryRunner } from 'typeorm';
import { FleetError } from '#contracts/common';

/** Runs `work` in one transaction on one connection; rolls back on any error. */
export async function inTransaction<T>(ds: DataSource, work: (q: QueryRunner) => Promise<T>): Promise<T> {
  const q = ds.createQueryRunner();
  await q.connect();
  await q.startTransaction();
  try {
    const result = await work(q);
    await q.commitTransaction();
    return result;
  } catch (err) {
    await q.rollbackTransaction().catch(() => undefined);
    throw err;
  } finally {
    await q.release();
  }
}

export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  const e = err as { code?: string; constraint?: string; driverError?: { code?: string; constraint?: string } };
  const code = e.code ?? e.driverError?.code;
  const name = e.constraint ?? e.driverError?.constraint;
  return code === '23505' && (constraint === undefined || name === constraint);
}

export function iso(value: Date | string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  return (value instanceof Date ? value : new Date(value)).toISOString();
}

/** Opaque page cursor: base64url of the sort key. */
export function encodeCursor(parts: string[]): string {
  return Buffer.from(JSON.stringify(parts)).toString('base64url');
}

export function decodeCursor(cursor: string | undefined, size: number): string[] | null {
  if (!cursor) return null;
  try {
    const parts = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as unknown;
    if (Array.isArray(parts) && parts.length === size && parts.every((p) => typeof p === 'string')) return parts as string[];
  } catch {
    // fall through
  }
  throw new FleetError('validation_failed', 'invalid cursor');
}

/**
 * Rows of a statement, whatever its kind. (TypeORM's `query()` returns `[rows, count]` for
 * UPDATE and DELETE, rows for everything else; this always returns the rows.)
 */
export async function returning<T = Record<string, unknown>>(db: DataSource | QueryRunner, text: string, params: unknown[] = []): Promise<T[]> {
  if ('createQueryRunner' in db) {
    const q = db.createQueryRunner();
    try {
      return (await q.query(text, params, true)).records as T[];
    } finally {
      await q.release();
    }
  }
  return (await db.query(text, params, true)).records as T[];
}
