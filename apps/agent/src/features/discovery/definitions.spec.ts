import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { serviceDefinitionSchema } from '#contracts/discovery';
import { loadDefinitionsDir, mergeDefinitions } from './definitions.js';

describe('service definition files', () => {
  let dir = '';
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fleet-defs-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads JSON and YAML files, single definitions or lists, sorted by file name', async () => {
    await writeFile(join(dir, 'b.yaml'), 'name: web\nport: 8080\nchecks:\n  - type: http\n    url: http://127.0.0.1:8080/health\n    interval: 5s\n');
    await writeFile(join(dir, 'a.json'), JSON.stringify({ services: [{ name: 'db', port: 5432 }, { name: 'cache', port: 6379 }] }));
    await writeFile(join(dir, 'notes.txt'), 'ignored');
    const { services, problems } = await loadDefinitionsDir(dir);
    expect(problems).toEqual([]);
    expect(services.map((s) => s.name)).toEqual(['db', 'cache', 'web']);
    expect(services[2].checks[0]).toMatchObject({ type: 'http', interval: 5000 });
  });

  it('skips a bad file with a problem naming it and the key, keeping the good ones', async () => {
    await writeFile(join(dir, 'good.json'), JSON.stringify({ name: 'ok', port: 1 }));
    await writeFile(join(dir, 'bad.json'), JSON.stringify({ name: 'bad', port: 'x' }));
    await writeFile(join(dir, 'broken.yaml'), 'name: [');
    const { services, problems } = await loadDefinitionsDir(dir);
    expect(services.map((s) => s.name)).toEqual(['ok']);
    expect(problems).toHaveLength(2);
    expect(problems.find((p) => p.includes('bad.json'))).toMatch(/port/);
  });

  it('treats a missing directory as no definitions', async () => {
    expect(await loadDefinitionsDir(join(dir, 'nope'))).toEqual({ services: [], problems: [] });
  });

  it('merges inline and file definitions, first id wins', () => {
    const a = serviceDefinitionSchema.parse({ name: 'web', port: 1 });
    const b = serviceDefinitionSchema.parse({ name: 'web', port: 2 });
    const merged = mergeDefinitions([a], [b]);
    expect(merged.services).toEqual([a]);
    expect(merged.problems[0]).toMatch(/more than once/);
  });
});
