import { describe, expect, it } from 'vitest';
import { parseSelector } from '#contracts/common';
import { decodeCursor, encodeCursor, whereClause } from './node-filter.js';
import { SqlParams, selectorToSql } from './selector-sql.js';

function translate(selector: string) {
  const params = new SqlParams();
  const sql = selectorToSql(parseSelector(selector), params);
  return { sql, values: params.values };
}

describe('selectorToSql', () => {
  it('turns equality into an indexable jsonb containment', () => {
    expect(translate('env=prod')).toEqual({ sql: ['n."labels" @> $1::jsonb'], values: ['{"env":"prod"}'] });
  });

  it('matches nodes without the key for != and notin, as Kubernetes does', () => {
    expect(translate('tier!=db')).toEqual({ sql: ['NOT (n."labels" @> $1::jsonb)'], values: ['{"tier":"db"}'] });
    expect(translate('role notin (x,y)')).toEqual({
      sql: ['NOT (n."labels" @> $1::jsonb OR n."labels" @> $2::jsonb)'],
      values: ['{"role":"x"}', '{"role":"y"}'],
    });
  });

  it('turns in into an OR of containments', () => {
    expect(translate('zone in (a,b)')).toEqual({
      sql: ['(n."labels" @> $1::jsonb OR n."labels" @> $2::jsonb)'],
      values: ['{"zone":"a"}', '{"zone":"b"}'],
    });
  });

  it('uses the key-exists operator for k and !k', () => {
    expect(translate('gpu,!legacy')).toEqual({
      sql: ['n."labels" ? $1', 'NOT (n."labels" ? $2)'],
      values: ['gpu', 'legacy'],
    });
  });

  it('never puts a value into the SQL text', () => {
    const { sql, values } = translate("k=a-b_c.d,x in (y)");
    expect(sql.join(' ')).not.toMatch(/a-b_c|"y"/);
    expect(values).toContain('{"k":"a-b_c.d"}');
  });

  it('translates an empty selector to no condition', () => {
    expect(translate('')).toEqual({ sql: [], values: [] });
  });
});

describe('whereClause', () => {
  it('combines the selector with status, group, channel and version filters', () => {
    const params = new SqlParams();
    const where = whereClause({ selector: 'env=prod', status: 'online', group: 'edge', channel: 'beta', version: '1.2.3' }, params);
    expect(where).toBe(
      'WHERE n."labels" @> $1::jsonb AND n."status" = $2 AND n."group" = $3 AND n."channel" = $4 AND n."os_version" = $5',
    );
    expect(params.values).toEqual(['{"env":"prod"}', 'online', 'edge', 'beta', '1.2.3']);
  });

  it('is empty without filters, and rejects a malformed selector with a validation error', () => {
    expect(whereClause({}, new SqlParams())).toBe('');
    expect(() => whereClause({ selector: 'a in (b' }, new SqlParams())).toThrow(expect.objectContaining({ code: 'validation_failed' }));
  });
});

describe('cursors', () => {
  it('round-trip the last id and reject garbage', () => {
    expect(decodeCursor(encodeCursor('node-42'))).toBe('node-42');
    expect(() => decodeCursor('garbage')).toThrow(expect.objectContaining({ code: 'validation_failed' }));
  });
});
