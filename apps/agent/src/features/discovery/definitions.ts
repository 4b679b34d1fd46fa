import { readdir, readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { serviceDefinitionSchema, type ServiceDefinition } from '#contracts/discovery';

const listFileSchema = z.strictObject({ services: z.array(serviceDefinitionSchema).max(256) });

/** A file holds `{ services: [...] }` or one definition; picking the shape first gives exact error paths. */
const schemaFor = (raw: unknown) =>
  raw !== null && typeof raw === 'object' && 'services' in raw ? listFileSchema : serviceDefinitionSchema;

export interface LoadedDefinitions {
  services: ServiceDefinition[];
  /** One line per bad file; the good files still count. */
  problems: string[];
}

const EXTENSIONS = new Set(['.json', '.yaml', '.yml']);

/** Reads every definition file in `dir`, sorted by name. A missing directory is an empty set. */
export async function loadDefinitionsDir(dir: string): Promise<LoadedDefinitions> {
  const services: ServiceDefinition[] = [];
  const problems: string[] = [];
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => EXTENSIONS.has(extname(n)) && !n.startsWith('.')).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { services, problems };
    throw err;
  }
  for (const name of names) {
    const path = join(dir, name);
    try {
      const text = await readFile(path, 'utf8');
      const raw: unknown = extname(name) === '.json' ? JSON.parse(text) : parseYaml(text);
      const parsed = schemaFor(raw).safeParse(raw);
      if (!parsed.success) {
        problems.push(`${path}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
        continue;
      }
      const data = parsed.data as z.output<typeof listFileSchema> | ServiceDefinition;
      services.push(...('services' in data ? data.services : [data]));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // removed while reading
      problems.push(`${path}: ${(err as Error).message}`);
    }
  }
  return { services, problems };
}

/** Inline definitions first, then the directory's; a later duplicate id is a problem and skipped. */
export function mergeDefinitions(inline: ServiceDefinition[], fromDir: ServiceDefinition[]): LoadedDefinitions {
  const seen = new Set<string>();
  const services: ServiceDefinition[] = [];
  const problems: string[] = [];
  for (const def of [...inline, ...fromDir]) {
    const id = def.id ?? def.name;
    if (seen.has(id)) {
      problems.push(`service id "${id}" is defined more than once; the first definition wins`);
      continue;
    }
    seen.add(id);
    services.push(def);
  }
  return { services, problems };
}
