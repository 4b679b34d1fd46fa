import { describe, expect, it } from 'vitest';
import { parseToml } from './toml.js';

describe('TOML parser', () => {
  it('parses the common constructs', () => {
    const doc = parseToml(`
# comment
title = "TOML \\"x\\" \\u00e9"
literal = 'C:\\path'
multi = """
line1
line2"""
[owner]
name = "Tom"
dob = 1979-05-27T07:32:00-08:00
[database]
ports = [ 8000, 8001, 0x1F, 0o7, 0b11, 1_000 ]
temp = { cpu = 79.5, case = -1e2 }
enabled = true
"dotted.key".x = 1
a.b.c = inf
[[products]]
name = "Hammer"
[[products]]
name = "Nail"
[servers.alpha]
ip = "10.0.0.1"
`);
    expect(doc.title).toBe('TOML "x" é');
    expect(doc.literal).toBe('C:\\path');
    expect(doc.multi).toBe('line1\nline2');
    expect(doc.owner).toEqual({ name: 'Tom', dob: '1979-05-27T07:32:00-08:00' });
    expect((doc.database as Record<string, unknown>).ports).toEqual([8000, 8001, 31, 7, 3, 1000]);
    expect((doc.database as Record<string, unknown>).temp).toEqual({ cpu: 79.5, case: -100 });
    expect((doc.database as Record<string, unknown>)['dotted.key']).toEqual({ x: 1 });
    expect((doc.database as Record<string, unknown>).a).toEqual({ b: { c: Infinity } });
    expect(doc.products).toEqual([{ name: 'Hammer' }, { name: 'Nail' }]);
    expect(doc.servers).toEqual({ alpha: { ip: '10.0.0.1' } });
  });

  it.each([
    ['a = ', /invalid value/],
    ['a = 1\na = 2', /defined twice/],
    ['[t]\n[t]', /defined twice/],
    ['a = "unterminated', /unterminated/],
    ['a = 1 b = 2', /after value/],
    ['[t', /unterminated table/],
    ['a = [1, 2', /expected/],
    ['a = 01', /invalid value/],
    ['a = "\\q"', /invalid escape/],
    ['= 1', /expected a key/],
    ['a = {b = 1}\n[a]', /defined twice/],
  ])('rejects %j', (text, reason) => {
    expect(() => parseToml(text)).toThrow(reason);
  });

  it('reports the line of the error', () => {
    expect(() => parseToml('a = 1\nb = 2\nc = ?')).toThrow(/^line 3:/);
  });
});
