import { describe, expect, it } from 'vitest';
import { osIdentity, parseOsRelease } from './os-release.js';

describe('parseOsRelease', () => {
  it('reads quoted, unquoted and escaped values and skips comments and junk', () => {
    const fields = parseOsRelease(
      [
        '# comment',
        'NAME="Flatcar Container Linux by Kinvolk"',
        'ID=flatcar',
        "VERSION_ID='3815.2.0'",
        'PRETTY_NAME="say \\"hi\\" \\$HOME"',
        '',
        'not a line',
        '=novalue',
        'BAD KEY=x',
      ].join('\n'),
    );
    expect(fields).toEqual({
      NAME: 'Flatcar Container Linux by Kinvolk',
      ID: 'flatcar',
      VERSION_ID: '3815.2.0',
      PRETTY_NAME: 'say "hi" $HOME',
    });
  });

  it('handles CRLF line endings', () => {
    expect(parseOsRelease('NAME=Debian\r\nVERSION_ID="12"\r\n')).toEqual({ NAME: 'Debian', VERSION_ID: '12' });
  });
});

describe('osIdentity', () => {
  it('uses NAME and VERSION_ID', () => {
    expect(osIdentity({ NAME: 'Debian GNU/Linux', VERSION_ID: '12', VERSION: '12 (bookworm)' })).toEqual({
      name: 'Debian GNU/Linux',
      version: '12',
    });
  });

  it('falls back to ID, VERSION, then unknown', () => {
    expect(osIdentity({ ID: 'arch' })).toEqual({ name: 'arch', version: 'unknown' });
    expect(osIdentity({ NAME: 'X', VERSION: '1 (y)' })).toEqual({ name: 'X', version: '1 (y)' });
    expect(osIdentity({})).toEqual({ name: 'Linux', version: 'unknown' });
  });
});
