import { describe, expect, it } from 'vitest';
import { schemaProblems, validateJson } from './json-schema.js';

describe('JSON Schema subset', () => {
  const schema = {
    type: 'object',
    required: ['name', 'port'],
    additionalProperties: false,
    properties: {
      name: { type: 'string', minLength: 1, maxLength: 8, pattern: '^[a-z]+$' },
      port: { type: 'integer', minimum: 1, maximum: 65535 },
      tags: { type: 'array', items: { enum: ['a', 'b'] }, uniqueItems: true, maxItems: 2 },
      mode: { oneOf: [{ const: 'x' }, { type: 'number', multipleOf: 5 }] },
      extra: { anyOf: [{ type: 'null' }, { type: 'boolean' }] },
      notZero: { not: { const: 0 } },
    },
  };

  it('accepts a valid document', () => {
    expect(validateJson(schema, { name: 'web', port: 80, tags: ['a'], mode: 10, extra: null, notZero: 1 })).toEqual([]);
  });

  it('reports every violation with a JSON pointer', () => {
    const errors = validateJson(schema, { name: 'Web!', port: 1.5, tags: ['a', 'a', 'c'], mode: 7, extra: 'x', notZero: 0, other: 1 });
    expect(errors).toEqual(
      expect.arrayContaining([
        '/name: does not match ^[a-z]+$',
        '/port: expected integer, found number',
        '/tags: more than 2 items',
        '/tags: items are not unique',
        '/tags/2: must be one of ["a","b"]',
        '/mode: matches 0 of oneOf (exactly 1 required)',
        '/extra: matches none of anyOf',
        '/notZero: must not match the "not" schema',
        '/other: property is not allowed',
      ]),
    );
    expect(validateJson(schema, {})).toEqual(['/: missing required property "name"', '/: missing required property "port"']);
  });

  it('refuses schemas that use keywords it does not enforce', () => {
    expect(schemaProblems(schema)).toEqual([]);
    expect(schemaProblems({ type: 'object', properties: { a: { $ref: '#/x' } } })).toEqual(['/properties/a/$ref: keyword "$ref" is not supported']);
    expect(schemaProblems({ type: 'nope' })).toEqual(['/type: unknown type']);
    expect(schemaProblems({ pattern: '(' })).toEqual(['/pattern: not a valid regular expression']);
  });
});
