import { describe, expect, it } from 'vitest';
import { splitNatsUrls } from './connect.js';

describe('NATS URLs with credentials', () => {
  it('takes user and password out of the URL', () => {
    expect(splitNatsUrls('nats://node-1:s%40cret@10.0.0.1:4222')).toEqual({
      servers: ['nats://10.0.0.1:4222'],
      user: 'node-1',
      pass: 's@cret',
      token: undefined,
    });
  });

  it('treats user info without a colon as a token, and applies it to the whole list', () => {
    expect(splitNatsUrls('nats://t0ken@a:4222, nats://b:4222')).toEqual({
      servers: ['nats://a:4222', 'nats://b:4222'],
      user: undefined,
      pass: undefined,
      token: 't0ken',
    });
  });

  it('leaves plain URLs alone', () => {
    expect(splitNatsUrls('nats://127.0.0.1:4222').servers).toEqual(['nats://127.0.0.1:4222']);
  });
});
