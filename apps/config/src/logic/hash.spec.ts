import { describe, expect, it } from 'vitest';
import { bundleHash, canonicalJson, configFileSchema, type ConfigFileInput } from '#contracts/config';

const file = (f: ConfigFileInput) => configFileSchema.parse(f);

describe('canonical hashing', () => {
  it('sorts object keys at every level', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: 2 }], c: null } })).toBe('{"a":{"c":null,"d":[2,{"y":2,"z":1}]},"b":1}');
  });

  it('does not depend on file order or on text vs base64 encoding of the same bytes', () => {
    const a = file({ path: '/etc/a', content: 'hello\n' });
    const b = file({ path: '/etc/b', content: 'x', mode: 0o600 });
    const a64 = file({ path: '/etc/a', content: Buffer.from('hello\n').toString('base64'), encoding: 'base64' });
    expect(bundleHash([a, b])).toBe(bundleHash([b, a]));
    expect(bundleHash([a, b])).toBe(bundleHash([b, a64]));
  });

  it('changes when content, mode, reload or check change', () => {
    const base = file({ path: '/etc/a', content: 'x' });
    const h = bundleHash([base]);
    expect(bundleHash([{ ...base, content: 'y' }])).not.toBe(h);
    expect(bundleHash([{ ...base, mode: 0o600 }])).not.toBe(h);
    expect(bundleHash([{ ...base, reload: { kind: 'command', command: 'true' } }])).not.toBe(h);
    expect(bundleHash([{ ...base, check: 'true {{src}}' }])).not.toBe(h);
    expect(bundleHash([{ ...base, path: '/etc/b' }])).not.toBe(h);
  });

  it('treats an empty owner like no owner', () => {
    const base = file({ path: '/etc/a', content: 'x' });
    expect(bundleHash([{ ...base, owner: {} }])).toBe(bundleHash([base]));
  });

  it('is the known sha256 of the empty bundle', () => {
    expect(bundleHash([])).toBe('4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945');
  });
});
