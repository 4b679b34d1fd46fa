import { FleetError, parseSelector } from '#contracts/common';
import type { NodeStatus } from '#contracts/inventory';
import { SqlParams, selectorToSql } from './selector-sql.js';

export interface NodeFilter {
  selector?: string;
  status?: NodeStatus;
  group?: string;
  groups?: string[];
  channel?: string;
  version?: string;
  arch?: string;
}

/** Builds `WHERE …` (or an empty string) for a node filter; every value is a bound parameter. */
export function whereClause(filter: NodeFilter, params: SqlParams, extra: string[] = []): string {
  const terms = [...selectorToSql(parseSelector(filter.selector), params)];
  if (filter.status) terms.push(`n."status" = ${params.add(filter.status)}`);
  if (filter.group) terms.push(`n."group" = ${params.add(filter.group)}`);
  if (filter.groups) terms.push(`n."group" = ANY(${params.add(filter.groups)}::text[])`);
  if (filter.channel) terms.push(`n."channel" = ${params.add(filter.channel)}`);
  if (filter.version) terms.push(`n."os_version" = ${params.add(filter.version)}`);
  if (filter.arch) terms.push(`n."arch" = ${params.add(filter.arch)}`);
  terms.push(...extra);
  return terms.length === 0 ? '' : `WHERE ${terms.join(' AND ')}`;
}

/** Cursors are opaque to callers: the last id of the page, base64url-encoded. */
export function encodeCursor(lastId: string): string {
  return Buffer.from(`n:${lastId}`, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): string {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!text.startsWith('n:') || text.length < 3) throw new FleetError('validation_failed', 'invalid cursor');
  return text.slice(2);
}
