import { readFile } from 'node:fs/promises';
import { parseScopeText, scopeKey, type DiffChange, type FleetStatus, type NodeConfigStatus, type RevisionView, type Scope } from '#contracts/config';
import type { Command, CommandContext, CommandGroup } from '../core/command.js';
import { UsageError } from '../core/errors.js';
import { formatAge } from '../core/format.js';
import { parseJsonInput, readInput } from '../core/input.js';
import { renderTable } from '../core/table.js';
import { followConfig, waitOptions, watchConfig } from './config-watch.js';
import { describeDrift } from './drift-text.js';

interface ItemView {
  scope: Scope;
  file: { path: string; content: string; encoding: 'text' | 'base64'; mode: number; reload?: { kind: string; unit?: string; command?: string }; check?: string };
}

const scopeOption = { name: 'scope', type: 'string', description: 'global (default), group=<g>, selector=<labels>, node=<id>', placeholder: 'scope' } as const;

function scopeOf(ctx: CommandContext): Scope {
  try {
    return parseScopeText(ctx.options.scope as string | undefined);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

const octal = (mode: number) => `0${mode.toString(8)}`;

/** `--canary 5%` or `--canary role=web`. */
export function parseCanary(text: string): { percent: number } | { selector: string } {
  const m = /^\s*(\d+(?:\.\d+)?)\s*%\s*$/.exec(text);
  if (m) {
    const percent = Number(m[1]);
    if (percent <= 0 || percent > 100) throw new UsageError('--canary percent must be in (0, 100]');
    return { percent };
  }
  if (!text.trim()) throw new UsageError('--canary needs a percentage (5%) or a label selector');
  return { selector: text.trim() };
}

const set: Command = {
  path: ['config', 'set'],
  summary: 'Stage a file (published with the next `config publish`)',
  args: [{ name: 'path', description: 'absolute path on the nodes' }],
  options: [
    scopeOption,
    { name: 'content', type: 'string', description: 'file content (text)' },
    { name: 'file', type: 'string', description: 'read the content from a local file (- for stdin)', placeholder: 'file' },
    { name: 'binary', type: 'boolean', description: 'send the content as base64 (binary files)' },
    { name: 'mode', type: 'string', description: 'octal permission bits', default: '0644' },
    { name: 'owner', type: 'string', description: 'user[:group] to own the file', placeholder: 'user:group' },
    { name: 'reload-unit', type: 'string', description: 'systemd unit to reload when the file changes', placeholder: 'unit' },
    { name: 'reload-action', type: 'string', description: 'what to do with --reload-unit', choices: ['reload', 'restart', 'reload-or-restart'], default: 'reload' },
    { name: 'reload-command', type: 'string', description: 'shell command to run when the file changes', placeholder: 'cmd' },
    { name: 'check', type: 'string', description: 'command run against the new file first; {{src}} is its path', placeholder: 'cmd' },
  ],
  examples: [
    'fleetctl config set /etc/app/app.toml --file app.toml --scope group=web --reload-unit app.service --check "app --check {{src}}"',
    'fleetctl config set /etc/motd --content "hello" --scope node=web-1',
  ],
  async run(ctx) {
    const o = ctx.options;
    if ((o.content === undefined) === (o.file === undefined)) throw new UsageError('give exactly one of --content or --file');
    if (o['reload-unit'] && o['reload-command']) throw new UsageError('give at most one of --reload-unit and --reload-command');
    const raw = o.file !== undefined ? (o.binary ? await readFile(o.file as string) : Buffer.from(await readInput(o.file as string))) : Buffer.from(o.content as string);
    const mode = Number.parseInt(String(o.mode), 8);
    if (!/^[0-7]{1,4}$/.test(String(o.mode))) throw new UsageError('--mode must be octal, e.g. 0644');
    const [user, group] = o.owner ? String(o.owner).split(':') : [];
    const reload = o['reload-unit']
      ? { kind: 'systemd', unit: o['reload-unit'], action: o['reload-action'] }
      : o['reload-command']
        ? { kind: 'command', command: o['reload-command'] }
        : undefined;
    const file = {
      path: ctx.args.path,
      content: o.binary ? raw.toString('base64') : raw.toString('utf8'),
      encoding: o.binary ? 'base64' : 'text',
      mode,
      ...(o.owner ? { owner: { ...(user ? { user } : {}), ...(group ? { group } : {}) } } : {}),
      ...(reload ? { reload } : {}),
      ...(o.check ? { check: o.check } : {}),
    };
    const draft = await ctx.client.put('/api/v1/config/drafts', { scope: scopeOf(ctx), file });
    if (ctx.output === 'json') ctx.printJson(draft);
    else ctx.print(`staged ${file.path} (${scopeKey(scopeOf(ctx))}); publish with: fleetctl config publish -m "<message>"`);
  },
};

const rm: Command = {
  path: ['config', 'rm'],
  summary: 'Stage the removal of a file at a scope',
  args: [{ name: 'path', description: 'absolute path' }],
  options: [scopeOption],
  async run(ctx) {
    const res = await ctx.client.post('/api/v1/config/drafts/removals', { scope: scopeOf(ctx), path: ctx.args.path });
    if (ctx.output === 'json') ctx.printJson(res);
    else ctx.print(`staged removal of ${ctx.args.path} (${scopeKey(scopeOf(ctx))})`);
  },
};

const ls: Command = {
  path: ['config', 'ls'],
  summary: 'Items of the latest (or a given) revision, or the staged draft',
  options: [
    { name: 'revision', type: 'number', description: 'revision to list' },
    { name: 'drafts', type: 'boolean', description: 'show the staged changes instead' },
  ],
  async run(ctx) {
    if (ctx.options.drafts) {
      const { drafts } = await ctx.client.get<{ drafts: Array<{ scope: Scope; path: string; op: string; author: string; updatedAt: string }> }>('/api/v1/config/drafts');
      if (ctx.output === 'json') return void ctx.printJson({ drafts });
      if (drafts.length === 0) return void ctx.print('the draft is empty');
      ctx.print(renderTable([
        { header: 'op', value: (d: (typeof drafts)[number]) => d.op },
        { header: 'scope', value: (d) => scopeKey(d.scope) },
        { header: 'path', value: (d) => d.path },
        { header: 'author', value: (d) => d.author },
        { header: 'staged', value: (d) => formatAge(d.updatedAt) },
      ], drafts));
      return;
    }
    const res = await ctx.client.get<{ revision: number; items: ItemView[] }>('/api/v1/config/items', { query: { revision: ctx.options.revision as number | undefined } });
    if (ctx.output === 'json') return void ctx.printJson(res);
    ctx.note(`revision ${res.revision}`);
    ctx.print(renderTable([
      { header: 'scope', value: (i: ItemView) => scopeKey(i.scope) },
      { header: 'path', value: (i) => i.file.path },
      { header: 'mode', value: (i) => octal(i.file.mode) },
      { header: 'bytes', value: (i) => String(i.file.encoding === 'base64' ? Buffer.from(i.file.content, 'base64').length : Buffer.byteLength(i.file.content)) },
      { header: 'reload', value: (i) => (i.file.reload ? (i.file.reload.unit ?? i.file.reload.command ?? '') : '-') },
      { header: 'check', value: (i) => (i.file.check ? 'yes' : '-') },
    ], res.items));
  },
};

const publish: Command = {
  path: ['config', 'publish'],
  summary: 'Publish the draft as a new revision (optionally to a canary first)',
  options: [
    { name: 'message', short: 'm', type: 'string', description: 'what and why (required)', placeholder: 'text' },
    { name: 'expect', type: 'number', description: 'fail with revision_conflict unless this is the latest revision' },
    { name: 'canary', type: 'string', description: 'apply to a subset first: 5% or a label selector', placeholder: '5%|selector' },
    ...waitOptions,
  ],
  examples: [
    'fleetctl config publish -m "raise limits" --expect 41 --canary 5%',
    'fleetctl config publish -m "db tuning" --canary role=db,zone=a',
    'fleetctl config publish -m "motd" --wait --wait-timeout 5m',
  ],
  async run(ctx) {
    if (!ctx.options.message) throw new UsageError('--message/-m is required');
    const body = {
      message: ctx.options.message,
      ...(ctx.options.expect !== undefined ? { expectedRevision: ctx.options.expect } : {}),
      ...(ctx.options.canary ? { canary: parseCanary(String(ctx.options.canary)) } : {}),
    };
    const res = await ctx.client.post<{ revision: RevisionView; canary: unknown }>('/api/v1/config/publish', body);
    if (ctx.output === 'json') ctx.printJson(res);
    else ctx.print(`published revision ${res.revision.revision}${res.canary ? ` as a canary (${ctx.options.canary}); promote or abort it` : ''}`);
    if (ctx.options.wait) return followConfig(ctx);
  },
};

const canaryAction = (verb: 'promote' | 'abort', summary: string): Command => ({
  path: ['config', verb],
  summary,
  options: waitOptions,
  async run(ctx) {
    const res = await ctx.client.post<{ revision: number; restored?: number }>(`/api/v1/config/canary/${verb}`, {});
    if (ctx.output === 'json') ctx.printJson(res);
    else ctx.print(verb === 'promote' ? `revision ${res.revision} promoted to every node` : `canary of revision ${res.revision} aborted; canary nodes return to revision ${res.restored}`);
    if (ctx.options.wait) return followConfig(ctx);
  },
});

const history: Command = {
  path: ['config', 'history'],
  summary: 'Published revisions, newest first',
  options: [{ name: 'limit', type: 'number', description: 'how many', default: 20 }],
  async run(ctx) {
    const { revisions } = await ctx.client.get<{ revisions: RevisionView[] }>('/api/v1/config/revisions', { query: { limit: ctx.options.limit as number } });
    if (ctx.output === 'json') return void ctx.printJson({ revisions });
    ctx.print(renderTable([
      { header: 'rev', value: (r: RevisionView) => String(r.revision) },
      { header: 'age', value: (r) => formatAge(r.createdAt) },
      { header: 'author', value: (r) => r.author },
      { header: 'items', value: (r) => String(r.itemCount) },
      { header: 'message', value: (r) => (r.rolledBackFrom ? `${r.message} (rollback to ${r.rolledBackFrom})` : r.message) },
    ], revisions));
  },
};

const diff: Command = {
  path: ['config', 'diff'],
  summary: 'Changes between two revisions',
  args: [
    { name: 'from', description: 'older revision (0 = empty)' },
    { name: 'to', description: 'newer revision' },
  ],
  async run(ctx) {
    const res = await ctx.client.get<{ changes: DiffChange[] }>('/api/v1/config/diff', { query: { from: ctx.args.from as string, to: ctx.args.to as string } });
    if (ctx.output === 'json') return void ctx.printJson(res);
    if (res.changes.length === 0) return void ctx.print('no changes');
    for (const c of res.changes) {
      const sign = c.change === 'added' ? '+' : c.change === 'removed' ? '-' : '~';
      ctx.print(`${sign} ${c.path} (${scopeKey(c.scope)})${c.fields.length ? `: ${c.fields.join(', ')}` : ''}`);
      if (c.fields.includes('content') && c.before?.encoding === 'text' && c.after?.encoding === 'text') {
        for (const line of c.before.content.split('\n')) if (line) ctx.print(`    - ${line}`);
        for (const line of c.after.content.split('\n')) if (line) ctx.print(`    + ${line}`);
      }
    }
  },
};

const rollback: Command = {
  path: ['config', 'rollback'],
  summary: "Publish an earlier revision's content again, as a new revision",
  args: [{ name: 'revision', description: 'revision to return to' }],
  options: [
    { name: 'message', short: 'm', type: 'string', description: 'why' },
    { name: 'expect', type: 'number', description: 'fail with revision_conflict unless this is the latest revision' },
    ...waitOptions,
  ],
  async run(ctx) {
    const res = await ctx.client.post<{ revision: RevisionView }>('/api/v1/config/rollback', {
      to: Number(ctx.args.revision),
      ...(ctx.options.message ? { message: ctx.options.message } : {}),
      ...(ctx.options.expect !== undefined ? { expectedRevision: ctx.options.expect } : {}),
    });
    if (ctx.output === 'json') ctx.printJson(res);
    else ctx.print(`published revision ${res.revision.revision} with the content of revision ${ctx.args.revision}`);
    if (ctx.options.wait) return followConfig(ctx);
  },
};

const status: Command = {
  path: ['config', 'status'],
  summary: 'Fleet view (nodes per revision, in sync, drifted, failed), or one node',
  args: [{ name: 'node', description: 'node id', optional: true }],
  async run(ctx) {
    if (ctx.args.node) {
      const s = await ctx.client.get<NodeConfigStatus>(`/api/v1/config/status/${encodeURIComponent(ctx.args.node as string)}`);
      if (ctx.output === 'json') return void ctx.printJson(s);
      ctx.print(`node ${s.nodeId}: desired ${s.desiredRevision ?? '-'} applied ${s.appliedRevision ?? '-'} ${s.inSync ? '(in sync)' : '(NOT in sync)'}${s.canary ? ' [canary]' : ''}`);
      if (s.lastResult) {
        ctx.print(`last apply: revision ${s.lastResult.revision} ${s.lastResult.ok ? 'ok' : 'FAILED'} ${formatAge(s.lastResult.at)}`);
        for (const f of s.lastResult.files) ctx.print(`  ${f.result.padEnd(12)} ${f.path}${f.message ? ` — ${f.message}` : ''}`);
      }
      for (const d of s.drift) ctx.print(`drift: ${d.path}: ${describeDrift(d)}`);
      return s.inSync && s.drift.length === 0 ? 0 : 3;
    }
    const f = await ctx.client.get<FleetStatus>('/api/v1/config/status');
    if (ctx.output === 'json') return void ctx.printJson(f);
    ctx.print(`latest revision ${f.latestRevision}, stable ${f.stableRevision}${f.canary ? `, canary ${f.canary.revision} on ${f.canary.nodes} node(s) (${f.canary.selector ?? `${f.canary.percent}%`})` : ''}`);
    ctx.print(`${f.nodes} nodes: ${f.inSync} in sync, ${f.drifted} drifted, ${f.failed} failed last apply`);
    ctx.print(renderTable([
      { header: 'revision', value: (r: [string, number]) => r[0] },
      { header: 'applied', value: (r) => String(r[1]) },
      { header: 'desired', value: (r) => String(f.byDesiredRevision[r[0]] ?? 0) },
    ], [...new Set([...Object.keys(f.byAppliedRevision), ...Object.keys(f.byDesiredRevision)])].map((k) => [k, f.byAppliedRevision[k] ?? 0] as [string, number])));
  },
};

const drift: Command = {
  path: ['config', 'drift'],
  summary: 'Nodes whose managed files were changed by hand (content, mode, owner) or removed',
  options: [{ name: 'limit', type: 'number', description: 'how many nodes', default: 100 }],
  async run(ctx) {
    const { nodes } = await ctx.client.get<{ nodes: NodeConfigStatus[] }>('/api/v1/config/drift', { query: { limit: ctx.options.limit as number } });
    if (ctx.output === 'json') return void ctx.printJson({ nodes });
    if (nodes.length === 0) return void ctx.print('no drift');
    const rows = nodes.flatMap((n) => n.drift.map((d) => ({ node: n.nodeId, ...d, at: n.driftAt ?? '' })));
    ctx.print(renderTable([
      { header: 'node', value: (r: (typeof rows)[number]) => r.node },
      { header: 'path', value: (r) => r.path },
      { header: 'drift', value: (r) => describeDrift(r) },
      { header: 'seen', value: (r) => (r.at ? formatAge(r.at) : '') },
    ], rows));
    return 3;
  },
};

const discard: Command = {
  path: ['config', 'discard'],
  summary: 'Throw away every staged change',
  async run(ctx) {
    const res = await ctx.client.delete<{ discarded: number }>('/api/v1/config/drafts');
    if (ctx.output === 'json') ctx.printJson(res);
    else ctx.print(`discarded ${res.discarded} staged change(s)`);
  },
};

const schemaSet: Command = {
  path: ['config', 'schema', 'set'],
  summary: 'Register a JSON Schema for files matching a glob (checked at every publish)',
  args: [{ name: 'pattern', description: 'glob over absolute paths (* within a segment, ** across)' }],
  options: [{ name: 'file', type: 'string', description: 'JSON Schema file (- for stdin)', placeholder: 'file' }],
  async run(ctx) {
    if (!ctx.options.file) throw new UsageError('--file is required');
    const schema = parseJsonInput(await readInput(ctx.options.file as string), ctx.options.file as string);
    const res = await ctx.client.put('/api/v1/config/schemas', { pattern: ctx.args.pattern, schema });
    if (ctx.output === 'json') ctx.printJson(res);
    else ctx.print(`schema registered for ${ctx.args.pattern}`);
  },
};

const schemaLs: Command = {
  path: ['config', 'schema', 'ls'],
  summary: 'Registered JSON Schemas',
  async run(ctx) {
    const res = await ctx.client.get<{ schemas: Array<{ pattern: string; updatedAt: string }> }>('/api/v1/config/schemas');
    if (ctx.output === 'json') return void ctx.printJson(res);
    ctx.print(renderTable([
      { header: 'pattern', value: (s: { pattern: string; updatedAt: string }) => s.pattern },
      { header: 'updated', value: (s) => formatAge(s.updatedAt) },
    ], res.schemas));
  },
};

const schemaRm: Command = {
  path: ['config', 'schema', 'rm'],
  summary: 'Remove a registered JSON Schema',
  args: [{ name: 'pattern', description: 'pattern' }],
  async run(ctx) {
    await ctx.client.delete('/api/v1/config/schemas', { query: { pattern: ctx.args.pattern as string } });
    ctx.print(`schema for ${ctx.args.pattern} removed`);
  },
};

export const configCommands: CommandGroup = {
  name: 'config',
  summary: 'Config files: stage, publish (canary), history, diff, rollback, status, drift',
  commands: [
    set,
    rm,
    ls,
    discard,
    publish,
    canaryAction('promote', 'Roll the canary revision out to every node'),
    canaryAction('abort', 'End the canary; canary nodes return to the previous revision'),
    history,
    diff,
    rollback,
    status,
    watchConfig,
    drift,
    schemaSet,
    schemaLs,
    schemaRm,
  ],
};
