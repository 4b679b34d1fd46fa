import { accessSync, constants, readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { channelSchema, groupSchema, labelsSchema, nodeIdSchema } from '#contracts/common';
import type { AgentFeature } from '../feature.js';

export const DEFAULT_MACHINE_ID_PATH = '/etc/machine-id';

/** Every core key of the agent config file, with its default (documented in docs/agent.md). */
export const coreConfigSchema = z.strictObject({
  natsUrl: z.string().min(1).default('nats://127.0.0.1:4222'),
  natsCredentials: z.string().min(1).optional(),
  subjectRoot: z
    .string()
    .regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, 'subject root: dot-separated tokens of A-Z a-z 0-9 _ -')
    .default('fleet'),
  nodeId: nodeIdSchema.optional(),
  dataDir: z.string().min(1).default('/var/lib/fleet-agent'),
  group: groupSchema.default('default'),
  channel: channelSchema.default('stable'),
  labels: labelsSchema.default({}),
  heartbeatIntervalSeconds: z.number().positive().max(3600).default(10),
  logLevel: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  /** Overrides the machine's hostname (demos, several agents on one machine). */
  hostname: z.string().min(1).max(253).optional(),
  /** Overrides /etc/os-release (tests, demos). */
  os: z.strictObject({ name: z.string().min(1).max(64), version: z.string().min(1).max(64) }).optional(),
});

export type CoreConfig = Omit<z.output<typeof coreConfigSchema>, 'nodeId'> & { nodeId: string };

export interface AgentConfig extends CoreConfig {
  /** Validated config section per registered feature, keyed by feature name. */
  features: Map<string, unknown>;
}

/** Every problem in a config file at once, each naming the key, under the file's name. */
export class AgentConfigError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`invalid agent config ${source}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'AgentConfigError';
  }
}

export interface ParseConfigOptions {
  /** File name, used in messages and to pick the format by extension. */
  source: string;
  features: readonly AgentFeature[];
  /** Where the default node id comes from. */
  machineIdPath?: string;
}

export function loadAgentConfig(path: string, options: Omit<ParseConfigOptions, 'source'>): AgentConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new AgentConfigError(path, [`cannot read the file: ${(err as Error).message}`]);
  }
  return parseAgentConfig(text, { ...options, source: path });
}

export function parseAgentConfig(text: string, options: ParseConfigOptions): AgentConfig {
  const raw = parseDocument(text, options.source);
  const featureNames = new Set(options.features.map((f) => f.name));
  for (const name of featureNames) {
    if (name in coreConfigSchema.shape) throw new Error(`feature name "${name}" clashes with a core config key`);
  }
  const problems: string[] = [];
  const core: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) if (!featureNames.has(key)) core[key] = value;

  const parsed = coreConfigSchema.safeParse(core);
  if (!parsed.success) problems.push(...describeIssues(parsed.error.issues, []));

  const features = new Map<string, unknown>();
  for (const feature of options.features) {
    // An absent section means "the feature's defaults".
    const result = feature.configSchema.safeParse(raw[feature.name] ?? {});
    if (result.success) features.set(feature.name, result.data);
    else problems.push(...describeIssues(result.error.issues, [feature.name]));
  }

  let nodeId = parsed.success ? parsed.data.nodeId : undefined;
  if (parsed.success && nodeId === undefined) {
    const machineIdPath = options.machineIdPath ?? DEFAULT_MACHINE_ID_PATH;
    try {
      const id = readFileSync(machineIdPath, 'utf8').trim();
      const ok = nodeIdSchema.safeParse(id);
      if (ok.success) nodeId = ok.data;
      else problems.push(`nodeId: not set, and ${machineIdPath} does not hold a valid id ("${id.slice(0, 40)}"); set nodeId`);
    } catch (err) {
      problems.push(`nodeId: not set, and ${machineIdPath} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); set nodeId`);
    }
  }

  const credentials = parsed.success ? parsed.data.natsCredentials : undefined;
  if (credentials !== undefined) {
    try {
      accessSync(credentials, constants.R_OK);
    } catch (err) {
      problems.push(`natsCredentials: cannot read ${credentials} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
  }

  if (problems.length > 0 || !parsed.success || nodeId === undefined) throw new AgentConfigError(options.source, problems);
  return { ...parsed.data, nodeId, features };
}

function parseDocument(text: string, source: string): Record<string, unknown> {
  const ext = extname(source).toLowerCase();
  const json = ext === '.json' || (ext !== '.yaml' && ext !== '.yml' && text.trimStart().startsWith('{'));
  let value: unknown;
  try {
    value = json ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    const message = (err as Error).message.split('\n')[0];
    throw new AgentConfigError(source, [`not valid ${json ? 'JSON' : 'YAML'}: ${message}`]);
  }
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new AgentConfigError(source, ['the document must be a mapping of keys to values']);
  }
  return value as Record<string, unknown>;
}

function describeIssues(issues: readonly z.core.$ZodIssue[], prefix: PropertyKey[]): string[] {
  const out: string[] = [];
  for (const issue of issues) {
    const path = [...prefix, ...issue.path].map(String);
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) out.push(`unknown key "${[...path, key].join('.')}"`);
    } else {
      out.push(`${path.join('.') || '(root)'}: ${issue.message}`);
    }
  }
  return out;
}
