import { describe, expect, it } from 'vitest';
import type { OpenAPIObject } from '@nestjs/swagger';
import { fillMissingSummaries } from './openapi.js';

describe('fillMissingSummaries', () => {
  it('gives every operation without a summary a METHOD /path stand-in and reports it', () => {
    const doc = {
      openapi: '3.0.0',
      info: { title: 't', version: '1' },
      paths: {
        '/a/{id}': { get: { summary: 'Show an a', responses: {} }, delete: { responses: {} } },
      },
    } as unknown as OpenAPIObject;
    expect(fillMissingSummaries(doc)).toEqual(['DELETE /a/{id}']);
    expect(doc.paths['/a/{id}'].delete!.summary).toBe('DELETE /a/{id}');
    expect(doc.paths['/a/{id}'].get!.summary).toBe('Show an a');
  });
});
