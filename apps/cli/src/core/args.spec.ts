import { describe, expect, it } from 'vitest';
import { bindArgs, parseArgs, type OptionSpec } from './args.js';

const specs: OptionSpec[] = [
  { name: 'selector', short: 'l', type: 'string', description: '' },
  { name: 'limit', type: 'number', description: '' },
  { name: 'all', type: 'boolean', description: '' },
  { name: 'output', short: 'o', type: 'string', choices: ['table', 'json'], description: '', default: 'table' },
  { name: 'tag', type: 'string', multiple: true, description: '' },
];

describe('parseArgs', () => {
  it('reads long, long=value, short and short=value forms, and keeps positionals in order', () => {
    const { options, positionals } = parseArgs(
      ['web-1', '--selector', 'env=prod,zone in (a,b)', '--limit=5', '-o', 'json', 'k=v', '--all', 'k2-'],
      specs,
    );
    expect(options).toEqual({ selector: 'env=prod,zone in (a,b)', limit: 5, output: 'json', all: true });
    expect(positionals).toEqual(['web-1', 'k=v', 'k2-']);
    expect(parseArgs(['-o=json', '-lenv=x'], specs).options).toMatchObject({ output: 'json', selector: 'env=x' });
  });

  it('applies defaults and collects repeatable options', () => {
    expect(parseArgs(['--tag', 'a', '--tag=b'], specs).options).toEqual({ tag: ['a', 'b'], output: 'table' });
  });

  it('treats everything after -- as positional', () => {
    expect(parseArgs(['--', '--all', '-x'], specs).positionals).toEqual(['--all', '-x']);
  });

  it('names the offending option in usage errors', () => {
    expect(() => parseArgs(['--nope'], specs)).toThrow('unknown option --nope');
    expect(() => parseArgs(['-x'], specs)).toThrow('unknown option -x');
    expect(() => parseArgs(['--limit'], specs)).toThrow('--limit needs a value');
    expect(() => parseArgs(['--limit', 'ten'], specs)).toThrow('--limit needs a number, got "ten"');
    expect(() => parseArgs(['-o', 'yaml'], specs)).toThrow('--output must be one of table, json; got "yaml"');
    expect(() => parseArgs(['--all=yes'], specs)).toThrow('--all takes no value');
  });
});

describe('bindArgs', () => {
  it('binds named and variadic arguments and rejects missing or extra ones', () => {
    const spec = [{ name: 'id', description: '' }, { name: 'changes', description: '', variadic: true }];
    expect(bindArgs(['n1', 'a=b', 'c-'], spec)).toEqual({ id: 'n1', changes: ['a=b', 'c-'] });
    expect(() => bindArgs(['n1'], spec)).toThrow('missing CHANGES...');
    expect(() => bindArgs([], [{ name: 'id', description: '' }])).toThrow('missing ID');
    expect(() => bindArgs(['a', 'b'], [{ name: 'id', description: '' }])).toThrow('unexpected argument "b"');
    expect(bindArgs([], [{ name: 'id', description: '', optional: true }])).toEqual({});
  });
});
