import { z } from 'zod';
import { groupSchema, nodeIdSchema } from '../common/ids.js';

/**
 * A config item is one file on a machine. Its path is absolute and normalized; the agent only
 * ever writes it under its own managed roots whatever the server sends.
 */
export const configPathSchema = z
  .string()
  .min(2)
  .max(1024)
  .refine((p) => p.startsWith('/'), 'path must be absolute');

export const reloadActionSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('systemd'),
    unit: z.string().regex(/^[A-Za-z0-9@._:-]{1,255}$/, 'systemd unit name'),
    action: z.enum(['reload', 'restart', 'reload-or-restart']).default('reload'),
  }),
  z.object({
    kind: z.literal('command'),
    /** Run with `/bin/sh -c`. */
    command: z.string().min(1).max(4096),
  }),
]);
export type ReloadAction = z.output<typeof reloadActionSchema>;

export const ownerSchema = z.object({
  /** User name or numeric id. */
  user: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/).optional(),
  group: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/).optional(),
});

/** The file as stored in a revision and sent to agents. */
export const configFileSchema = z.object({
  path: configPathSchema,
  content: z.string(),
  encoding: z.enum(['text', 'base64']).default('text'),
  /** Permission bits, 0..0o7777 (send 420 for 0644). */
  mode: z.number().int().min(0).max(0o7777).default(0o644),
  owner: ownerSchema.optional(),
  reload: reloadActionSchema.optional(),
  /**
   * Run against the new file before it replaces the old one, like confd's `check_cmd`; `{{src}}`
   * is replaced by the path of the new (temporary) file. Non-zero exit → not applied, reported.
   */
  check: z.string().min(1).max(4096).optional(),
});
export type ConfigFile = z.output<typeof configFileSchema>;
export type ConfigFileInput = z.input<typeof configFileSchema>;

/** Where an item applies; the most specific scope wins per path: global < group < selector < node. */
export const scopeSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('global') }),
  z.object({ kind: z.literal('group'), group: groupSchema }),
  z.object({ kind: z.literal('selector'), selector: z.string().min(1).max(1024) }),
  z.object({ kind: z.literal('node'), nodeId: nodeIdSchema }),
]);
export type Scope = z.output<typeof scopeSchema>;

/** An item of the config set: a file at a scope. */
export const configItemSchema = z.object({ scope: scopeSchema, file: configFileSchema });
export type ConfigItem = z.output<typeof configItemSchema>;
export type ConfigItemInput = z.input<typeof configItemSchema>;

/** Stable text form of a scope (`global`, `group:web`, `selector:role=db`, `node:n1`), used as a key. */
export function scopeKey(scope: Scope): string {
  switch (scope.kind) {
    case 'global':
      return 'global';
    case 'group':
      return `group:${scope.group}`;
    case 'selector':
      return `selector:${scope.selector}`;
    case 'node':
      return `node:${scope.nodeId}`;
  }
}

export function parseScopeKey(key: string): Scope {
  if (key === 'global') return { kind: 'global' };
  const i = key.indexOf(':');
  const kind = key.slice(0, i);
  const rest = key.slice(i + 1);
  if (kind === 'group') return { kind: 'group', group: rest };
  if (kind === 'selector') return { kind: 'selector', selector: rest };
  if (kind === 'node') return { kind: 'node', nodeId: rest };
  throw new Error(`bad scope key "${key}"`);
}

/** Text form accepted by the CLI and HTTP query strings: `global`, `group=web`, `selector=role=db`, `node=n1`. */
export function parseScopeText(text: string | undefined): Scope {
  const t = (text ?? 'global').trim();
  if (t === '' || t === 'global') return { kind: 'global' };
  const i = t.indexOf('=');
  const kind = i < 0 ? t : t.slice(0, i);
  const value = i < 0 ? '' : t.slice(i + 1);
  const parsed = scopeSchema.safeParse(
    kind === 'group' ? { kind, group: value } : kind === 'selector' ? { kind, selector: value } : kind === 'node' ? { kind, nodeId: value } : { kind },
  );
  if (!parsed.success) throw new Error(`bad scope "${text}": use global, group=<g>, selector=<sel> or node=<id>`);
  return parsed.data;
}
