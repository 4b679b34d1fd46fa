import { describe, expect, it } from 'vitest';
import { FleetError } from '#contracts/common';
import { configItemSchema, globToRegExp, pathProblem, type ConfigItemInput } from '#contracts/config';
import { assertValid, validateConfigSet, type ValidationLimits } from './validate.js';

const limits: ValidationLimits = { roots: ['/etc', '/opt/app'], maxFileBytes: 1024, maxBundleBytes: 8192, maxItems: 100 };
const item = (path: string, content: string, extra: Partial<ConfigItemInput['file']> = {}, scope: ConfigItemInput['scope'] = { kind: 'global' }) =>
  configItemSchema.parse({ scope, file: { path, content, ...extra } });
const reasons = (items: ReturnType<typeof item>[], schemas = []) => validateConfigSet(items, schemas, limits).map((p) => `${p.path}: ${p.reason}`);

describe('path rules', () => {
  it.each([
    ['etc/x', /absolute/],
    ['/etc/../root/x', /\.\./],
    ['/etc/./x', /segments/],
    ['/etc//x', /normalized/],
    ['/etc/x/', /normalized/],
    ['/etc/a\nb', /control/],
    ['/var/x', /outside/],
    ['/etc', /outside/],
    ['/etcetera/x', /outside/],
  ])('refuses %j', (path, reason) => {
    expect(pathProblem(path, limits.roots)).toMatch(reason);
  });

  it('accepts a normalized absolute path strictly inside a root', () => {
    expect(pathProblem('/etc/app/app.conf', limits.roots)).toBeNull();
    expect(pathProblem('/opt/app/x', limits.roots)).toBeNull();
  });
});

describe('globs for schema patterns', () => {
  it('matches * within a segment and ** across segments', () => {
    expect(globToRegExp('/etc/*.json').test('/etc/a.json')).toBe(true);
    expect(globToRegExp('/etc/*.json').test('/etc/x/a.json')).toBe(false);
    expect(globToRegExp('/etc/**/*.json').test('/etc/a.json')).toBe(true);
    expect(globToRegExp('/etc/**/*.json').test('/etc/x/y/a.json')).toBe(true);
    expect(globToRegExp('/etc/app.json').test('/etc/appxjson')).toBe(false);
  });
});

describe('config set validation', () => {
  it('accepts good JSON, YAML, TOML and plain files', () => {
    const items = [
      item('/etc/a.json', '{"a": [1, 2]}'),
      item('/etc/b.yaml', 'a: 1\nb: [x, y]\n---\nc: 2\n'),
      item('/etc/c.toml', '[server]\nport = 8080\nhosts = ["a", "b"]\n'),
      item('/etc/d.conf', 'anything { goes'),
    ];
    expect(reasons(items)).toEqual([]);
  });

  it('names the item and the syntax error for broken JSON, YAML and TOML', () => {
    const problems = reasons([item('/etc/a.json', '{"a": }'), item('/etc/b.yml', 'a: [1, 2\n'), item('/etc/c.toml', 'a = \n')]);
    expect(problems).toHaveLength(3);
    expect(problems[0]).toMatch(/^\/etc\/a\.json: JSON syntax error/);
    expect(problems[1]).toMatch(/^\/etc\/b\.yml: YAML syntax error/);
    expect(problems[2]).toMatch(/^\/etc\/c\.toml: TOML syntax error: line 1/);
  });

  it('enforces the file size limit after base64 decoding and the worst-case bundle size', () => {
    const big = Buffer.alloc(2000, 1).toString('base64');
    expect(reasons([item('/etc/bin', big, { encoding: 'base64' })])[0]).toMatch(/2000 bytes, more than the limit of 1024/);
    const many = Array.from({ length: 20 }, (_, i) => item(`/etc/f${i}`, 'x'.repeat(1000)));
    expect(reasons(many).at(-1)).toMatch(/bundle could reach/);
    expect(reasons([item('/etc/b', '!!!', { encoding: 'base64' })])[0]).toMatch(/not valid base64/);
  });

  it('checks registered JSON Schemas on JSON, YAML and TOML files whose path matches', () => {
    const schemas = [{ pattern: '/etc/app/*', schema: { type: 'object', required: ['port'], properties: { port: { type: 'integer', maximum: 65535 } } } }];
    const problems = validateConfigSet(
      [
        item('/etc/app/ok.json', '{"port": 80}'),
        item('/etc/app/bad.yaml', 'port: 70000\n'),
        item('/etc/app/missing.toml', 'name = "x"\n'),
        item('/etc/app/plain.txt', 'port=1'),
        item('/etc/other.json', '{}'),
      ],
      schemas as never,
      limits,
    );
    expect(problems.map((p) => p.path)).toEqual(['/etc/app/bad.yaml', '/etc/app/missing.toml', '/etc/app/plain.txt']);
    expect(problems[0].reason).toMatch(/\/port: greater than 65535/);
    expect(problems[1].reason).toMatch(/missing required property "port"/);
  });

  it('refuses a bad selector scope', () => {
    expect(reasons([item('/etc/x', 'y', {}, { kind: 'selector', selector: 'a in (' })])[0]).toMatch(/selector/);
  });

  it('throws validation_failed naming every failing item', () => {
    const problems = validateConfigSet([item('/var/x', 'y'), item('/etc/a.json', '{')], [], limits);
    const err = (() => {
      try {
        assertValid(problems);
      } catch (e) {
        return e as FleetError;
      }
    })();
    expect(err?.code).toBe('validation_failed');
    expect(err?.message).toMatch(/\/var\/x \(global\): path is outside/);
    expect(err?.message).toMatch(/\/etc\/a\.json \(global\): JSON syntax error/);
  });
});
