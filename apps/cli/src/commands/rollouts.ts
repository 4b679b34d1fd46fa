import type { Command, CommandContext, CommandGroup } from '../core/command.js';
import { UsageError } from '../core/errors.js';
import { formatAge, parseDuration, progressBar } from '../core/format.js';
import { LiveView } from '../core/live-view.js';
import { renderFields, renderTable } from '../core/table.js';
import { keysCommands } from './keys.js';
import { locksCommands } from './locks.js';
import { releasesCommands } from './releases.js';

interface NodeRow {
  nodeId: string;
  group: string;
  wave: number;
  state: string;
  code: string | null;
  message: string | null;
  rollback: boolean;
  stateAt: string;
}

const create: Command = {
  path: ['rollouts', 'create'],
  summary: 'Roll a release out (operator): waves or a linear ramp, reboot slots, windows, failure threshold',
  options: [
    { name: 'release', type: 'string', description: 'release id (from releases ls)' },
    { name: 'channel', type: 'string', description: "target channel (default: the release's)" },
    { name: 'selector', type: 'string', placeholder: 'expr', description: 'label selector, e.g. env=prod,zone in (a,b)' },
    { name: 'group', type: 'string', multiple: true, description: 'only these groups' },
    { name: 'waves', type: 'string', placeholder: 'list', description: 'cumulative percentages, e.g. 1,10,50,100 (default)' },
    { name: 'soak', type: 'string', placeholder: 'duration', description: 'wait after each wave before the next (default 10m)' },
    { name: 'linear', type: 'string', placeholder: 'duration', description: 'instead of waves: ramp from 0 to 100% over this long' },
    { name: 'slots', type: 'number', description: 'machines per group rebooting at once (default 1)' },
    { name: 'group-slots', type: 'string', multiple: true, placeholder: 'group=n', description: 'per-group override' },
    { name: 'window', type: 'string', multiple: true, placeholder: 'spec', description: 'maintenance window [GROUP=]DAYS@HH:MM+LENGTH[@TZ]' },
    { name: 'failure-threshold', type: 'number', description: "percent of a wave's nodes failing that pauses the rollout (default 5)" },
    { name: 'node-timeout', type: 'string', placeholder: 'duration', description: 'a node stuck this long in one state fails (default 1h)' },
    { name: 'paused', type: 'boolean', description: 'create paused; start with rollouts resume' },
    { name: 'description', type: 'string', description: 'free text' },
  ],
  examples: [
    'fleetctl rollouts create --release 7c1e… --waves 1,10,50,100 --soak 30m --slots 2 --window "sat,sun@02:00+4h@Europe/Berlin"',
    'fleetctl rollouts create --release 7c1e… --selector env=prod --linear 48h',
  ],
  async run(ctx) {
    const releaseId = ctx.options.release as string | undefined;
    if (!releaseId) throw new UsageError('--release is required');
    const o = ctx.options;
    const body: Record<string, unknown> = { releaseId, target: {} };
    const target = body.target as Record<string, unknown>;
    if (o.channel) target.channel = o.channel;
    if (o.selector) target.selector = o.selector;
    if ((o.group as string[] | undefined)?.length) target.groups = o.group;
    if (o.linear && o.waves) throw new UsageError('--waves and --linear exclude each other');
    if (o.linear) body.strategy = { type: 'linear', durationSeconds: durationSeconds(o.linear as string, '--linear') };
    else if (o.waves || o.soak) {
      body.strategy = {
        type: 'waves',
        waves: parseWaves((o.waves as string | undefined) ?? '1,10,50,100'),
        soakSeconds: o.soak ? durationSeconds(o.soak as string, '--soak') : 600,
      };
    }
    if (o.slots !== undefined) body.rebootSlotsPerGroup = o.slots;
    if ((o['group-slots'] as string[] | undefined)?.length) {
      body.groupSlots = Object.fromEntries((o['group-slots'] as string[]).map(parseGroupSlots));
    }
    if ((o.window as string[] | undefined)?.length) {
      const windows: Record<string, unknown[]> = {};
      for (const spec of (o.window as string[]).map(parseWindow)) (windows[spec.group] ??= []).push(spec.window);
      body.maintenanceWindows = windows;
    }
    if (o['failure-threshold'] !== undefined) body.failureThresholdPercent = o['failure-threshold'];
    if (o['node-timeout']) body.nodeTimeoutSeconds = durationSeconds(o['node-timeout'] as string, '--node-timeout');
    if (o.paused) body.paused = true;
    if (o.description) body.description = o.description;
    const created = await ctx.client.post<RolloutView>('/api/v1/rollouts', body);
    if (ctx.output === 'json') ctx.printJson(created);
    else ctx.print(`rollout ${created.id} of ${created.version} created (${created.state}); follow it with: fleetctl rollouts watch ${created.id}`);
  },
};

const ls: Command = {
  path: ['rollouts', 'ls'],
  summary: 'List rollouts, newest first',
  options: [
    { name: 'state', type: 'string', placeholder: 'list', description: 'only these states (comma-separated)' },
    { name: 'release', type: 'string', description: 'only rollouts of this release id' },
    { name: 'limit', type: 'number', default: 50, description: 'at most this many' },
  ],
  async run(ctx) {
    const page = await ctx.client.get<{ items: RolloutView[]; nextCursor: string | null }>('/api/v1/rollouts', {
      query: { state: ctx.options.state as string | undefined, releaseId: ctx.options.release as string | undefined, limit: ctx.options.limit as number },
    });
    if (ctx.output === 'json') {
      ctx.printJson(page);
      return;
    }
    const done = (r: RolloutView) => (r.counts.byState.succeeded ?? 0) + (r.counts.byState.failed ?? 0) + (r.counts.byState.rolled_back ?? 0);
    ctx.print(
      renderTable(
        [
          { header: 'id', value: (r: RolloutView) => r.id },
          { header: 'version', value: (r) => r.version },
          { header: 'channel', value: (r) => r.channel },
          { header: 'state', value: (r) => r.state },
          { header: 'wave', value: (r) => `${r.currentWave + 1}/${r.waves.length}` },
          { header: 'done', value: (r) => `${done(r)}/${r.counts.total}` },
          { header: 'failed', value: (r) => String((r.counts.byState.failed ?? 0) + (r.counts.byState.rolled_back ?? 0)) },
          { header: 'age', value: (r) => formatAge(r.createdAt) },
          { header: 'reason', value: (r) => r.reason ?? '' },
        ],
        page.items,
      ),
    );
  },
};

const show: Command = {
  path: ['rollouts', 'show'],
  summary: 'Show a rollout: settings, waves, counts; --nodes lists its nodes',
  args: [{ name: 'id', description: 'rollout id' }],
  options: [
    { name: 'nodes', type: 'boolean', description: 'also list nodes' },
    { name: 'state', type: 'string', placeholder: 'list', description: 'with --nodes: only these node states' },
    { name: 'group', type: 'string', description: 'with --nodes: only this group' },
    { name: 'limit', type: 'number', default: 100, description: 'with --nodes: at most this many' },
  ],
  async run(ctx) {
    const id = encodeURIComponent(ctx.args.id as string);
    const rollout = await ctx.client.get<RolloutView>(`/api/v1/rollouts/${id}`);
    const nodes = ctx.options.nodes
      ? await ctx.client.get<{ items: NodeRow[]; total: number }>(`/api/v1/rollouts/${id}/nodes`, {
          query: { state: ctx.options.state as string | undefined, group: ctx.options.group as string | undefined, limit: ctx.options.limit as number },
        })
      : undefined;
    if (ctx.output === 'json') {
      ctx.printJson(nodes ? { ...rollout, nodes } : rollout);
      return;
    }
    ctx.print(
      renderFields([
        ['id', rollout.id],
        ['release', `${rollout.version} (${rollout.channel}/${rollout.arch}) ${rollout.releaseId}`],
        ['previous', rollout.previousVersion],
        ['target', [rollout.target.channel, rollout.target.selector, rollout.target.groups.join(',')].filter(Boolean).join(' ')],
        ['strategy', rollout.strategy.type === 'waves' ? `waves ${rollout.strategy.waves.join(',')}, soak ${rollout.strategy.soakSeconds}s` : `linear over ${rollout.strategy.durationSeconds}s`],
        ['reboot slots', `${rollout.rebootSlotsPerGroup} per group${Object.keys(rollout.groupSlots).length ? ` (${Object.entries(rollout.groupSlots).map(([g, n]) => `${g}=${n}`).join(', ')})` : ''}`],
        ['failure threshold', `${rollout.failureThresholdPercent}%`],
        ['created', `${rollout.createdAt} (${formatAge(rollout.createdAt)} ago)`],
      ]),
    );
    ctx.print('');
    ctx.print(renderRollout(rollout, []).join('\n'));
    if (nodes) {
      ctx.print('');
      ctx.print(
        renderTable(
          [
            { header: 'node', value: (n: NodeRow) => n.nodeId },
            { header: 'group', value: (n) => n.group },
            { header: 'wave', value: (n) => String(n.wave + 1) },
            { header: 'state', value: (n) => (n.rollback ? `${n.state} (rollback)` : n.state) },
            { header: 'since', value: (n) => formatAge(n.stateAt) },
            { header: 'code', value: (n) => n.code ?? '' },
            { header: 'message', value: (n) => n.message ?? '' },
          ],
          nodes.items,
        ),
      );
      if (nodes.total > nodes.items.length) ctx.note(`${nodes.items.length} of ${nodes.total} nodes shown`);
    }
  },
};

function action(verb: 'pause' | 'resume' | 'abort' | 'rollback', summary: string): Command {
  return {
    path: ['rollouts', verb],
    summary,
    args: [{ name: 'id', description: 'rollout id' }],
    options: [{ name: 'reason', type: 'string', description: 'recorded with the action' }],
    async run(ctx) {
      const reason = ctx.options.reason as string | undefined;
      const r = await ctx.client.post<RolloutView>(`/api/v1/rollouts/${encodeURIComponent(ctx.args.id as string)}/${verb}`, reason ? { reason } : {});
      if (ctx.output === 'json') ctx.printJson(r);
      else ctx.print(`rollout ${r.id}: ${r.state}${r.reason ? ` (${r.reason})` : ''}`);
    },
  };
}

const TERMINAL = new Set(['completed', 'aborted', 'rolled_back']);

const watch: Command = {
  path: ['rollouts', 'watch'],
  summary: 'Follow a rollout live until it ends: waves, node states, reboot-slot holders',
  description: 'Redraws in place on a terminal, prints changed lines otherwise. Exits 0 when the rollout completes, 1 when it is aborted or rolled back.',
  args: [{ name: 'id', description: 'rollout id' }],
  options: [{ name: 'interval', type: 'string', placeholder: 'duration', default: '2s', description: 'refresh period' }],
  async run(ctx) {
    const id = encodeURIComponent(ctx.args.id as string);
    const everyMs = durationSeconds(ctx.options.interval as string, '--interval') * 1000 || 1000;
    const view = new LiveView(ctx.io.stdout);
    for (;;) {
      const rollout = await ctx.client.get<RolloutView>(`/api/v1/rollouts/${id}`);
      const locks = await lockHolders(ctx);
      if (ctx.output === 'json') ctx.print(JSON.stringify({ at: new Date().toISOString(), rollout, locks }));
      else view.render(renderRollout(rollout, locks));
      if (TERMINAL.has(rollout.state)) {
        view.done();
        return rollout.state === 'completed' ? 0 : 1;
      }
      await new Promise((r) => setTimeout(r, everyMs));
    }
  },
};

async function lockHolders(ctx: CommandContext): Promise<GroupLocks[]> {
  try {
    return (await ctx.client.get<{ items: GroupLocks[] }>('/api/v1/locks')).items;
  } catch {
    return []; // the view is still useful without them
  }
}

export const rolloutsCommands: CommandGroup = {
  name: 'rollouts',
  summary: 'Staged OS rollouts: create, follow, pause, resume, abort, roll back',
  commands: [
    create,
    ls,
    show,
    watch,
    action('pause', 'Pause a rollout (operator): nodes mid-update finish, no new ones start'),
    action('resume', 'Resume a paused rollout (operator)'),
    action('abort', 'Abort a rollout (operator): nodes that have not rebooted drop the update'),
    action('rollback', 'Roll back (operator): updated nodes return to the previous release in their other slot'),
  ],
};

/** Every OS-update command group, registered with one entry in `commands/index.ts`. */
export const updateCommandGroups: CommandGroup[] = [releasesCommands, rolloutsCommands, locksCommands, keysCommands];

// Option parsing and the watch view, pure and exported for the specs.

const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

export interface WindowSpec {
  group: string;
  window: { days: string[]; start: string; lengthMinutes: number; timeZone: string };
}

/**
 * `--window [GROUP=]DAYS@HH:MM+LENGTH[@TZ]`, e.g. `web=sat,sun@02:00+2h@Europe/Berlin` or
 * `daily@23:30+90m` (all groups, UTC). DAYS is `daily` or a comma list of mon..sun.
 */
export function parseWindow(text: string): WindowSpec {
  const m = /^(?:([a-z0-9][a-z0-9_-]*|\*)=)?([a-z,]+)@(\d{1,2}:\d{2})\+([0-9a-z.]+)(?:@(.+))?$/.exec(text.trim());
  if (!m) throw new UsageError(`--window "${text}": expected [GROUP=]DAYS@HH:MM+LENGTH[@TZ], e.g. web=sat,sun@02:00+2h@Europe/Berlin`);
  const [, group = '*', daysText, start, lengthText, timeZone = 'UTC'] = m;
  const days = daysText === 'daily' ? [] : daysText.split(',');
  for (const d of days) if (!DAYS.includes(d)) throw new UsageError(`--window "${text}": unknown day "${d}" (mon..sun or daily)`);
  let lengthMs: number;
  try {
    lengthMs = parseDuration(lengthText);
  } catch (err) {
    throw new UsageError(`--window "${text}": ${(err as Error).message}`);
  }
  return { group, window: { days, start: start.padStart(5, '0'), lengthMinutes: Math.round(lengthMs / 60_000), timeZone } };
}

/** `1,10,50,100` → numbers. */
export function parseWaves(text: string): number[] {
  const waves = text.split(',').map((s) => Number(s.trim()));
  if (waves.some((w) => !Number.isFinite(w) || w <= 0 || w > 100)) throw new UsageError(`--waves "${text}": percentages from 1 to 100`);
  return waves;
}

/** `web=2` → ['web', 2]. */
export function parseGroupSlots(text: string): [string, number] {
  const m = /^([a-z0-9][a-z0-9_-]*)=(\d+)$/.exec(text.trim());
  if (!m) throw new UsageError(`--group-slots "${text}": expected GROUP=N`);
  return [m[1], Number(m[2])];
}

export function durationSeconds(text: string, name: string): number {
  try {
    return Math.round(parseDuration(text) / 1000);
  } catch (err) {
    throw new UsageError(`${name}: ${(err as Error).message}`);
  }
}

export interface RolloutView {
  id: string;
  releaseId: string;
  version: string;
  channel: string;
  arch: string;
  previousVersion: string | null;
  target: { channel: string; selector: string | null; groups: string[] };
  strategy: { type: 'waves'; waves: number[]; soakSeconds: number } | { type: 'linear'; start?: string; durationSeconds: number };
  rebootSlotsPerGroup: number;
  groupSlots: Record<string, number>;
  failureThresholdPercent: number;
  state: string;
  reason: string | null;
  currentWave: number;
  waves: Array<{ index: number; percent: number; total: number; byState: Record<string, number>; openedAt: string | null; finishedAt: string | null }>;
  counts: { total: number; byState: Record<string, number> };
  createdAt: string;
}

export interface GroupLocks {
  group: string;
  capacity: number;
  windowOpen: boolean;
  holders: Array<{ id: string; acquiredAt: string; expiresAt: string }>;
}

const ORDER = ['pending', 'downloading', 'staged', 'awaiting_reboot', 'rebooting', 'verifying', 'succeeded', 'failed', 'rolled_back'];
const DONE = ['succeeded', 'failed', 'rolled_back'];

/** The lines of `rollouts watch` (and the tail of `rollouts show`): a pure function, unit-tested. */
export function renderRollout(r: RolloutView, locks: readonly GroupLocks[]): string[] {
  const lines = [`rollout ${r.id}  ${r.version} → ${r.channel}/${r.arch}  ${r.state}${r.reason ? `: ${r.reason}` : ''}`];
  for (const w of r.waves) {
    const done = DONE.reduce((n, s) => n + (w.byState[s] ?? 0), 0);
    const failed = (w.byState.failed ?? 0) + (w.byState.rolled_back ?? 0);
    const status = w.finishedAt ? 'done' : w.openedAt ? 'open' : 'waiting';
    const marker = w.index === r.currentWave && !w.finishedAt ? '>' : ' ';
    lines.push(
      `${marker} wave ${w.index + 1} ${`${round(w.percent)}%`.padStart(5)} ${progressBar(w.total ? done / w.total : 0)} ${`${done}/${w.total}`.padStart(11)}  ${status}${failed ? `  failed ${failed}` : ''}`,
    );
  }
  const counts = ORDER.filter((s) => r.counts.byState[s]).map((s) => `${s} ${r.counts.byState[s]}`);
  lines.push(`nodes ${r.counts.total}: ${counts.length ? counts.join(', ') : 'none yet'}`);
  const busy = locks.filter((g) => g.holders.length > 0);
  if (busy.length === 0) lines.push('reboot slots: none held');
  else {
    lines.push('reboot slots:');
    for (const g of busy) {
      const ids = g.holders.map((h) => h.id);
      const shown = ids.length > 6 ? `${ids.slice(0, 6).join(', ')}, … (+${ids.length - 6})` : ids.join(', ');
      lines.push(`  ${g.group} ${g.holders.length}/${g.capacity}${g.windowOpen ? '' : ' (window closed)'}: ${shown}`);
    }
  }
  return lines;
}

function round(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}
