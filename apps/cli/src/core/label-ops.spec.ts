import { describe, expect, it } from 'vitest';
import { parseLabelOps, toMergePatch } from './label-ops.js';

describe('parseLabelOps', () => {
  it('reads k=v as set and k- as remove', () => {
    expect(parseLabelOps(['env=prod', 'zone=', 'legacy-', 'team/a.b=x=y'])).toEqual({
      set: { env: 'prod', zone: '', 'team/a.b': 'x=y' },
      remove: ['legacy'],
    });
  });

  it('turns the changes into a JSON merge-patch', () => {
    expect(toMergePatch(parseLabelOps(['a=1', 'b-']))).toEqual({ a: '1', b: null });
  });

  it('rejects words that are neither, and a key both set and removed', () => {
    expect(() => parseLabelOps(['env'])).toThrow(/cannot read "env" as a label change/);
    expect(() => parseLabelOps(['-'])).toThrow(/cannot read/);
    expect(() => parseLabelOps(['=v'])).toThrow(/cannot read/);
    expect(() => parseLabelOps(['a=1', 'a-'])).toThrow('label "a" is both set and removed');
  });
});
