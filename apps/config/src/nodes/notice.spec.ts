import { describe, expect, it } from 'vitest';
import { configNoticeSchema } from '#contracts/config';
import { noticeBytes } from './notice.js';

describe('notice bytes', () => {
  it('is a valid notice with or without the files inline', () => {
    const hash = 'a'.repeat(64);
    expect(configNoticeSchema.parse(JSON.parse(noticeBytes(3, hash).toString()))).toEqual({ v: 1, revision: 3, hash });
    const files = [{ path: '/etc/x', content: 'x', encoding: 'text', mode: 0o644 }];
    expect(configNoticeSchema.parse(JSON.parse(noticeBytes(4, hash, JSON.stringify(files)).toString()))).toMatchObject({ revision: 4, files });
  });
});
