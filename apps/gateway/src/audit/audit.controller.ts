import { Controller, Get, Inject, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { DataSource } from 'typeorm';
import { z } from 'zod';
import { Roles } from '../auth/roles.js';
import { GATEWAY_DB } from '../core/tokens.js';
import { ApiStandardErrors, ApiZodQuery, ApiZodResponse, ZodPipe } from '../core/zod.js';

export const auditQuery = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  /** `nextCursor` of the previous page; pages go from newest to oldest. */
  cursor: z.string().regex(/^\d{1,19}$/, 'cursor: as returned in nextCursor').optional(),
  actor: z.string().max(64).optional(),
  method: z.enum(['POST', 'PUT', 'PATCH', 'DELETE']).optional(),
});

export const auditEntrySchema = z.object({
  id: z.string(),
  at: z.string(),
  tokenId: z.string().nullable(),
  actor: z.string(),
  role: z.string().nullable(),
  method: z.string(),
  path: z.string(),
  status: z.number().int(),
  requestId: z.string(),
  ip: z.string().nullable(),
});
export const auditPageSchema = z.object({ items: z.array(auditEntrySchema), nextCursor: z.string().nullable() });

@ApiTags('audit')
@ApiBearerAuth()
@ApiStandardErrors()
@Roles('admin')
@Controller('api/v1/audit')
export class AuditController {
  constructor(@Inject(GATEWAY_DB) private readonly db: DataSource) {}

  @Get()
  @ApiOperation({ summary: 'Read the audit log of mutating requests, newest first' })
  @ApiZodQuery(auditQuery)
  @ApiZodResponse(200, auditPageSchema, 'one page of audit entries')
  async list(@Query(new ZodPipe(auditQuery, 'query')) q: z.output<typeof auditQuery>) {
    const where: string[] = [];
    const params: unknown[] = [];
    if (q.cursor) where.push(`audit_log.id < $${params.push(q.cursor)}`);
    if (q.actor) where.push(`actor = $${params.push(q.actor)}`);
    if (q.method) where.push(`method = $${params.push(q.method)}`);
    const rows: Array<Record<string, unknown>> = await this.db.query(
      `SELECT id::text, at, token_id, actor, role, method, path, status, request_id, ip FROM "gateway"."audit_log"
       ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY audit_log.id DESC LIMIT $${params.push(q.limit + 1)}`,
      params,
    );
    const page = rows.slice(0, q.limit);
    return {
      items: page.map((r) => ({
        id: r.id as string,
        at: (r.at as Date).toISOString(),
        tokenId: r.token_id as string | null,
        actor: r.actor as string,
        role: r.role as string | null,
        method: r.method as string,
        path: r.path as string,
        status: r.status as number,
        requestId: r.request_id as string,
        ip: r.ip as string | null,
      })),
      nextCursor: rows.length > q.limit ? (page[page.length - 1].id as string) : null,
    };
  }
}
