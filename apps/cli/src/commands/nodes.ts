import type { NodePage, NodeView } from '#contracts/inventory';
import type { Command, CommandContext, CommandGroup } from '../core/command.js';
import { formatAge, formatBytes, formatDuration, formatLabels } from '../core/format.js';
import { parseLabelOps, toMergePatch } from '../core/label-ops.js';
import { renderFields, renderTable, type Column } from '../core/table.js';

export const NODE_COLUMNS: Column<NodeView>[] = [
  { header: 'id', value: (n) => n.id },
  { header: 'hostname', value: (n) => n.hostname, maxWidth: 32 },
  { header: 'status', value: (n) => n.status },
  { header: 'health', value: (n) => n.health },
  { header: 'group', value: (n) => n.group },
  { header: 'channel', value: (n) => n.channel },
  { header: 'version', value: (n) => n.os.version },
  { header: 'last seen', value: (n) => formatAge(n.lastSeenAt) },
  { header: 'labels', value: (n) => formatLabels(n.labels), maxWidth: 60 },
];

const nodePath = (id: string) => `/api/v1/nodes/${encodeURIComponent(id)}`;

const ls: Command = {
  path: ['nodes', 'ls'],
  summary: 'List nodes',
  description: 'Filters combine (all must hold). Pages are ordered by node id; --all follows every page.',
  options: [
    { name: 'selector', short: 'l', type: 'string', placeholder: 'expr', description: 'label selector, e.g. "env=prod,zone in (a,b),!legacy"' },
    { name: 'status', type: 'string', choices: ['online', 'offline'], description: 'only nodes with this status' },
    { name: 'group', type: 'string', description: 'only nodes in this group' },
    { name: 'channel', type: 'string', description: 'only nodes on this channel' },
    { name: 'version', type: 'string', description: 'only nodes running this OS version' },
    { name: 'limit', type: 'number', description: 'page size (default 100, max 1000)' },
    { name: 'cursor', type: 'string', description: 'continue from a previous page' },
    { name: 'all', type: 'boolean', description: 'fetch every page' },
  ],
  examples: ['fleetctl nodes ls --selector env=prod --status offline', 'fleetctl nodes ls --all -o json'],
  async run(ctx) {
    const o = ctx.options;
    const query = {
      selector: o.selector as string | undefined,
      status: o.status as string | undefined,
      group: o.group as string | undefined,
      channel: o.channel as string | undefined,
      version: o.version as string | undefined,
      limit: (o.limit as number | undefined) ?? (o.all ? 1000 : undefined),
      cursor: o.cursor as string | undefined,
    };
    let page = await ctx.client.get<NodePage>('/api/v1/nodes', { query });
    const items = [...page.items];
    while (o.all && page.nextCursor) {
      page = await ctx.client.get<NodePage>('/api/v1/nodes', { query: { ...query, cursor: page.nextCursor } });
      items.push(...page.items);
    }
    if (ctx.output === 'json') {
      ctx.printJson(o.all ? { items, total: page.total, nextCursor: null } : page);
      return;
    }
    if (items.length === 0) {
      ctx.note('No nodes found.');
      return;
    }
    ctx.print(renderTable(NODE_COLUMNS, items));
    if (page.nextCursor) ctx.note(`Showing ${items.length} of ${page.total}. More: --cursor ${page.nextCursor}, or --all.`);
  },
};

export function renderNode(n: NodeView & { deadEnd?: { reason: string } | null }): string {
  const fields: Array<[string, string | number | null]> = [
    ['ID', n.id],
    ['Hostname', n.hostname],
    ['Status', n.status],
    ['Health', n.health],
    ['Group', n.group],
    ['Channel', n.channel],
    ['OS', `${n.os.name} ${n.os.version}${n.deadEnd ? `  (DEAD END: ${n.deadEnd.reason})` : ''}`],
    ['Arch', n.arch],
    ['Kernel', n.kernel],
    ['Booted slot', n.bootedSlot],
    ['Agent', n.agentVersion],
    ['Runtimes', n.runtimes.map((r) => `${r.name} ${r.version}`).join(', ')],
    ['Labels', formatLabels(n.labels)],
    ['Uptime', n.uptimeSeconds === null ? null : formatDuration(n.uptimeSeconds * 1000)],
    ['Load', n.load ? n.load.map((l) => l.toFixed(2)).join(' ') : null],
    ['Memory', n.memory ? `${formatBytes(n.memory.availableBytes)} free of ${formatBytes(n.memory.totalBytes)}` : null],
    ['Disk', n.disk ? `${formatBytes(n.disk.availableBytes)} free of ${formatBytes(n.disk.totalBytes)}` : null],
    ['Registered', `${n.registeredAt} (${formatAge(n.registeredAt)} ago)`],
    ['Last seen', `${n.lastSeenAt} (${formatAge(n.lastSeenAt)} ago)`],
  ];
  return renderFields(fields);
}

async function patchNode(ctx: CommandContext, body: unknown): Promise<NodeView> {
  return ctx.client.patch<NodeView>(nodePath(ctx.args.id as string), body);
}

const show: Command = {
  path: ['nodes', 'show'],
  summary: 'Show one node',
  args: [{ name: 'id', description: 'node id' }],
  async run(ctx) {
    const node = await ctx.client.get<NodeView>(nodePath(ctx.args.id as string));
    if (ctx.output === 'json') ctx.printJson(node);
    else ctx.print(renderNode(node));
  },
};

const label: Command = {
  path: ['nodes', 'label'],
  summary: "Set (k=v) or remove (k-) a node's labels",
  args: [
    { name: 'id', description: 'node id' },
    { name: 'changes', description: 'key=value to set, key- to remove', variadic: true },
  ],
  examples: ['fleetctl nodes label web-1 env=prod tier=web legacy-'],
  async run(ctx) {
    const ops = parseLabelOps(ctx.args.changes as string[]);
    const node = await patchNode(ctx, { labels: toMergePatch(ops) });
    if (ctx.output === 'json') ctx.printJson(node);
    else ctx.print(`node ${node.id} labeled: ${formatLabels(node.labels)}`);
  },
};

const group: Command = {
  path: ['nodes', 'group'],
  summary: 'Move a node to another group',
  args: [
    { name: 'id', description: 'node id' },
    { name: 'group', description: 'the new group' },
  ],
  async run(ctx) {
    const node = await patchNode(ctx, { group: ctx.args.group });
    if (ctx.output === 'json') ctx.printJson(node);
    else ctx.print(`node ${node.id} is now in group ${node.group}`);
  },
};

const rm: Command = {
  path: ['nodes', 'rm'],
  summary: 'Decommission a node (it registers again if its agent keeps running)',
  args: [{ name: 'id', description: 'node id' }],
  async run(ctx) {
    const id = ctx.args.id as string;
    await ctx.client.delete(nodePath(id));
    if (ctx.output === 'json') ctx.printJson({ id, decommissioned: true });
    else ctx.print(`node ${id} decommissioned`);
  },
};

export const nodesCommands: CommandGroup = {
  name: 'nodes',
  summary: 'list, inspect, label, regroup and decommission machines',
  commands: [ls, show, label, group, rm],
};
