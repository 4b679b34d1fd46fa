import { BadRequestException, NotFoundException, PayloadTooLargeException } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { FleetError } from '#contracts/common';
import { toHttpError } from './http-errors.js';

describe('toHttpError', () => {
  it('maps FleetError codes to their HTTP status and keeps details', () => {
    expect(toHttpError(new FleetError('validation_failed', 'bad', { issues: [] }))).toEqual({
      status: 400,
      body: { code: 'validation_failed', message: 'bad', details: { issues: [] } },
      expose: true,
    });
    expect(toHttpError(new FleetError('unavailable', 'x')).status).toBe(503);
    expect(toHttpError(new FleetError('timeout', 'x')).status).toBe(504);
    expect(toHttpError(new FleetError('internal', 'x')).expose).toBe(false);
  });

  it("rewrites the router's 404 and maps other Nest exceptions by status", () => {
    expect(toHttpError(new NotFoundException('Cannot GET /x')).body).toEqual({ code: 'not_found', message: 'no route for GET /x' });
    expect(toHttpError(new PayloadTooLargeException()).body.code).toBe('payload_too_large');
  });

  it('recognises body-parser errors, raw or wrapped', () => {
    const tooLarge = Object.assign(new Error('request entity too large'), { type: 'entity.too.large', status: 413, limit: 1048576 });
    expect(toHttpError(tooLarge)).toMatchObject({ status: 413, body: { code: 'payload_too_large' } });
    const malformed = Object.assign(new Error('Unexpected token'), { type: 'entity.parse.failed', status: 400 });
    expect(toHttpError(new BadRequestException('x', { cause: malformed }))).toMatchObject({
      status: 400,
      body: { code: 'bad_request', message: 'malformed JSON body: Unexpected token' },
    });
  });

  it('hides the message of unexpected errors', () => {
    expect(toHttpError(new TypeError('secret internals'))).toEqual({
      status: 500,
      body: { code: 'internal', message: 'internal error; see the gateway log' },
      expose: false,
    });
  });
});
