import { describe, expect, it } from 'vitest';
import { describeDrift } from './drift-text.js';

const a = 'a'.repeat(64);
const b = 'b'.repeat(64);

describe('config drift: what drifted, in words', () => {
  it('says mode and owner with the found value first', () => {
    expect(describeDrift({ path: '/etc/x', expected: a, found: a, kinds: ['mode'], expectedMode: '0644', foundMode: '0777' })).toBe('mode 0777, expected 0644');
    expect(describeDrift({ path: '/etc/x', expected: a, found: a, kinds: ['owner'], expectedOwner: { uid: 0, gid: 0 }, foundOwner: { uid: 1000, gid: 1000 } })).toBe(
      'owner 1000:1000, expected 0:0',
    );
    expect(describeDrift({ path: '/etc/x', expected: a, found: a, kinds: ['owner'], expectedOwner: { uid: 0 }, foundOwner: { uid: 5 } })).toBe('owner uid 5, expected uid 0');
  });

  it('lists every difference of one file', () => {
    expect(describeDrift({ path: '/etc/x', expected: a, found: b, kinds: ['content', 'mode'], expectedMode: '0600', foundMode: '0644' })).toBe(
      `content ${b.slice(0, 12)}, expected ${a.slice(0, 12)}; mode 0644, expected 0600`,
    );
  });

  it('reads entries of agents that compare content only as content or missing', () => {
    expect(describeDrift({ path: '/etc/x', expected: a, found: b })).toBe(`content ${b.slice(0, 12)}, expected ${a.slice(0, 12)}`);
    expect(describeDrift({ path: '/etc/x', expected: a, found: 'missing' })).toBe('missing');
  });
});
