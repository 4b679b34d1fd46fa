import type { InstanceReply, InstanceView, InstancesReply, ListServicesReply } from '#contracts/discovery';
import type { Command, CommandContext, CommandGroup } from '../core/command.js';
import { UsageError } from '../core/errors.js';
import { formatAge } from '../core/format.js';
import { parseJsonInput, readInput } from '../core/input.js';
import { renderFields, renderTable, type Column } from '../core/table.js';

const servicePath = (name: string) => `/api/v1/services/${encodeURIComponent(name)}`;
const instancePath = (name: string, id: string) => `${servicePath(name)}/instances/${encodeURIComponent(id)}`;

const checksCell = (i: InstanceView) => i.checks.map((c) => `${c.id}:${c.status}`).join(' ');

export const INSTANCE_COLUMNS: Column<InstanceView>[] = [
  { header: 'id', value: (i) => i.id, maxWidth: 48 },
  { header: 'health', value: (i) => (i.nodeOffline ? `${i.health} (node offline)` : i.health) },
  { header: 'node', value: (i) => i.nodeId },
  { header: 'address', value: (i) => `${i.address.includes(':') ? `[${i.address}]` : i.address}:${i.port}` },
  { header: 'group', value: (i) => i.group },
  { header: 'tags', value: (i) => i.tags.join(','), maxWidth: 40 },
  { header: 'checks', value: checksCell, maxWidth: 60 },
];

/** Filter options shared by `show` and `watch`, as gateway query parameters. */
const filterOptions = [
  { name: 'tag', type: 'string', multiple: true, description: 'only instances with this tag' },
  { name: 'passing', type: 'boolean', description: 'only passing instances' },
  { name: 'state', type: 'string', multiple: true, choices: ['passing', 'warning', 'critical'], description: 'only instances in this state' },
  { name: 'selector', short: 'l', type: 'string', placeholder: 'expr', description: "label selector on the instances' nodes" },
  { name: 'group', type: 'string', description: 'only instances in this group (the datacenter)' },
  { name: 'node', type: 'string', description: 'only instances on this node' },
] as const;

function filterQuery(ctx: CommandContext): Record<string, string | boolean | undefined> {
  const o = ctx.options;
  const list = (v: unknown) => (Array.isArray(v) && v.length ? v.join(',') : undefined);
  return {
    tag: list(o.tag),
    passing: o.passing ? true : undefined,
    state: list(o.state),
    selector: o.selector as string | undefined,
    group: o.group as string | undefined,
    node: o.node as string | undefined,
  };
}

export type InstanceChangeLine = { kind: 'added' | 'removed' | 'changed'; id: string; from?: string; to?: string; detail: string };

/** What changed between two answers of the same query, for `watch`. */
export function diffInstances(before: readonly InstanceView[], after: readonly InstanceView[]): InstanceChangeLine[] {
  const prev = new Map(before.map((i) => [i.id, i]));
  const next = new Map(after.map((i) => [i.id, i]));
  const lines: InstanceChangeLine[] = [];
  const why = (i: InstanceView) => {
    if (i.nodeOffline) return 'node offline';
    const bad = i.checks.find((c) => c.status !== 'passing');
    return bad ? `${bad.id}: ${bad.output}` : '';
  };
  for (const [id, i] of next) {
    const old = prev.get(id);
    if (!old) lines.push({ kind: 'added', id, to: i.health, detail: `${i.address}:${i.port} ${why(i)}`.trim() });
    else if (old.health !== i.health) lines.push({ kind: 'changed', id, from: old.health, to: i.health, detail: why(i) });
    else if (checksCell(old) !== checksCell(i) || old.address !== i.address || old.port !== i.port || old.tags.join() !== i.tags.join()) {
      lines.push({ kind: 'changed', id, from: old.health, to: i.health, detail: `checks ${checksCell(i)}` });
    }
  }
  for (const [id, i] of prev) if (!next.has(id)) lines.push({ kind: 'removed', id, from: i.health, detail: '' });
  return lines;
}

export function formatChange(service: string, c: InstanceChangeLine, at = new Date()): string {
  const time = at.toISOString().slice(11, 19);
  const state = c.kind === 'added' ? `+ ${c.to}` : c.kind === 'removed' ? `- removed` : `${c.from} → ${c.to}`;
  return `${time}  ${service}  ${c.id}  ${state}${c.detail ? `  (${c.detail})` : ''}`;
}

const ls: Command = {
  path: ['services', 'ls'],
  summary: 'List services with instance counts by state (the control plane included)',
  options: [
    { name: 'tag', type: 'string', description: 'only services with an instance carrying this tag' },
    { name: 'group', type: 'string', description: 'only instances in this group' },
  ],
  async run(ctx) {
    const reply = await ctx.client.get<ListServicesReply>('/api/v1/services', {
      query: { tag: ctx.options.tag as string | undefined, group: ctx.options.group as string | undefined },
    });
    if (ctx.output === 'json') return void ctx.printJson(reply);
    if (reply.services.length === 0) return void ctx.note('No services registered.');
    ctx.print(
      renderTable(
        [
          { header: 'name', value: (s) => s.name },
          { header: 'instances', value: (s) => s.instances, align: 'right' },
          { header: 'passing', value: (s) => s.counts.passing, align: 'right' },
          { header: 'warning', value: (s) => s.counts.warning, align: 'right' },
          { header: 'critical', value: (s) => s.counts.critical, align: 'right' },
          { header: 'tags', value: (s) => s.tags.join(','), maxWidth: 60 },
        ],
        reply.services,
      ),
    );
  },
};

const show: Command = {
  path: ['services', 'show'],
  summary: "Show a service's instances and their checks",
  args: [
    { name: 'name', description: 'service name' },
    { name: 'id', description: 'one instance, with every check in detail', optional: true },
  ],
  options: filterOptions,
  examples: ['fleetctl services show web --passing', 'fleetctl services show web --tag v2 -l zone=a', 'fleetctl services show web n1:web'],
  async run(ctx) {
    const name = ctx.args.name as string;
    if (ctx.args.id) {
      const { instance: i } = await ctx.client.get<InstanceReply>(instancePath(name, ctx.args.id as string));
      if (ctx.output === 'json') return void ctx.printJson(i);
      ctx.print(
        renderFields([
          ['ID', i.id],
          ['Service', i.service],
          ['Health', i.nodeOffline ? `${i.health} (node offline)` : i.health],
          ['Node', i.nodeId],
          ['Address', `${i.address}:${i.port}`],
          ['Group', i.group],
          ['Source', i.source],
          ['Tags', i.tags.join(', ')],
          ['Meta', Object.entries(i.meta).map(([k, v]) => `${k}=${v}`).join(', ')],
          ['Critical since', i.criticalSince ? `${i.criticalSince} (${formatAge(i.criticalSince)} ago)` : null],
          ['Deregister after', i.deregisterCriticalAfterMs === null ? null : `${i.deregisterCriticalAfterMs / 1000}s critical`],
          ['Registered', i.registeredAt],
        ]),
      );
      ctx.print(
        renderTable(
          [
            { header: 'check', value: (c) => c.id },
            { header: 'type', value: (c) => c.type },
            { header: 'status', value: (c) => c.status },
            { header: 'updated', value: (c) => (c.updatedAt.startsWith('1970') ? 'never' : `${formatAge(c.updatedAt)} ago`) },
            { header: 'output', value: (c) => c.output, maxWidth: 80 },
          ],
          i.checks,
        ),
      );
      return;
    }
    const reply = await ctx.client.get<InstancesReply>(servicePath(name), { query: filterQuery(ctx) });
    if (ctx.output === 'json') return void ctx.printJson(reply);
    if (reply.instances.length === 0) return void ctx.note(`No instances of ${name} match.`);
    ctx.print(renderTable(INSTANCE_COLUMNS, reply.instances));
  },
};

const watch: Command = {
  path: ['services', 'watch'],
  summary: "Print each change of a service's instances as it happens (blocking queries)",
  description: 'Prints the current instances, then one line per change. -o json prints every new answer as one JSON line. Ctrl-C stops.',
  args: [{ name: 'name', description: 'service name' }],
  options: [
    ...filterOptions,
    { name: 'wait', type: 'string', default: '20s', description: 'longest wait per blocking query (e.g. 20s, 1m)' },
    { name: 'count', type: 'number', description: 'stop after this many changes' },
  ],
  examples: ['fleetctl services watch web', 'fleetctl services watch web --passing -o json'],
  async run(ctx) {
    const name = ctx.args.name as string;
    const query = filterQuery(ctx);
    const wait = String(ctx.options.wait ?? '20s');
    const limit = ctx.options.count as number | undefined;
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) throw new UsageError('--count must be a positive integer');
    process.once('SIGINT', () => process.exit(0));
    let reply = await ctx.client.get<InstancesReply>(servicePath(name), { query });
    if (ctx.output === 'json') ctx.print(`${JSON.stringify(reply)}\n`);
    else if (reply.instances.length === 0) ctx.note(`No instances of ${name} yet; watching.`);
    else ctx.print(renderTable(INSTANCE_COLUMNS, reply.instances));
    let changes = 0;
    let failures = 0;
    while (limit === undefined || changes < limit) {
      let next: InstancesReply;
      try {
        next = await ctx.client.get<InstancesReply>(servicePath(name), { query: { ...query, index: reply.index, wait } });
        failures = 0;
      } catch (err) {
        // A gateway restart or a timeout: note it once, back off, keep watching.
        if (++failures === 1) ctx.note(`watch: ${(err as Error).message}; retrying`);
        await new Promise((r) => setTimeout(r, Math.min(10_000, 500 * 2 ** failures)));
        continue;
      }
      const lines = diffInstances(reply.instances, next.instances);
      // An index that went backwards means the catalog was reset: start over from this answer.
      reply = next;
      if (lines.length === 0) continue;
      changes += lines.length;
      if (ctx.output === 'json') ctx.print(`${JSON.stringify(next)}\n`);
      else ctx.print(lines.map((l) => formatChange(name, l)).join('\n') + '\n');
    }
  },
};

const register: Command = {
  path: ['services', 'register'],
  summary: 'Register an instance no agent manages (a service off the fleet)',
  description: 'From a JSON file (--file, - for stdin) in the API\'s shape, or from flags. Re-registering the same id is idempotent.',
  options: [
    { name: 'file', short: 'f', type: 'string', description: 'JSON definition: {name, address, port, id?, tags?, meta?, group?, nodeId?, checks?: [{type: "ttl", ttl: "30s"}]}' },
    { name: 'name', type: 'string', description: 'service name' },
    { name: 'address', type: 'string', description: 'IP address or host name' },
    { name: 'port', type: 'number', description: 'port' },
    { name: 'id', type: 'string', description: 'instance id (default name@address:port)' },
    { name: 'tag', type: 'string', multiple: true, description: 'tag' },
    { name: 'group', type: 'string', description: 'group (default "default")' },
    { name: 'ttl', type: 'string', description: 'add a TTL check with this TTL (e.g. 30s); report with `services check`' },
    { name: 'deregister-after', type: 'string', description: 'remove the instance after being critical this long (e.g. 10m)' },
  ],
  examples: ['fleetctl services register --name pg --address 10.0.0.5 --port 5432 --tag primary', 'fleetctl services register -f db.json'],
  async run(ctx) {
    const o = ctx.options;
    let body: Record<string, unknown>;
    if (o.file) {
      body = parseJsonInput(await readInput(o.file as string), o.file as string);
    } else {
      if (!o.name || !o.address || o.port === undefined) throw new UsageError('give --file, or --name, --address and --port');
      body = {
        name: o.name,
        address: o.address,
        port: o.port,
        ...(o.id ? { id: o.id } : {}),
        ...(Array.isArray(o.tag) && o.tag.length ? { tags: o.tag } : {}),
        ...(o.group ? { group: o.group } : {}),
        ...(o.ttl ? { checks: [{ type: 'ttl', id: 'ttl', ttl: o.ttl, ...(o['deregister-after'] ? { deregisterCriticalAfter: o['deregister-after'] } : {}) }] } : {}),
      };
    }
    const reply = await ctx.client.post<InstanceReply>('/api/v1/services', body);
    if (ctx.output === 'json') return void ctx.printJson(reply);
    ctx.print(`registered ${reply.instance.id} (${reply.instance.service}, ${reply.instance.health})\n`);
  },
};

const deregister: Command = {
  path: ['services', 'deregister'],
  summary: 'Deregister an instance',
  args: [
    { name: 'name', description: 'service name' },
    { name: 'id', description: 'instance id' },
  ],
  async run(ctx) {
    const id = ctx.args.id as string;
    await ctx.client.delete(instancePath(ctx.args.name as string, id));
    if (ctx.output === 'json') return void ctx.printJson({ id, deregistered: true });
    ctx.print(`deregistered ${id}\n`);
  },
};

const check: Command = {
  path: ['services', 'check'],
  summary: 'Report a TTL check of an API-registered instance: pass, warn or fail',
  args: [
    { name: 'name', description: 'service name' },
    { name: 'id', description: 'instance id' },
    { name: 'check', description: 'check id' },
    { name: 'verb', description: 'pass | warn | fail' },
  ],
  // `--note`, not `--output`: that is the global output format.
  options: [{ name: 'note', type: 'string', placeholder: 'text', description: 'text shown with the check (its output)' }],
  async run(ctx) {
    const verb = ctx.args.verb as string;
    if (!['pass', 'warn', 'fail'].includes(verb)) throw new UsageError('verb must be pass, warn or fail');
    const path = `${instancePath(ctx.args.name as string, ctx.args.id as string)}/checks/${encodeURIComponent(ctx.args.check as string)}/${verb}`;
    const reply = await ctx.client.put<{ index: number; health?: string }>(path, { output: (ctx.options.note as string | undefined) ?? '' });
    if (ctx.output === 'json') return void ctx.printJson(reply);
    ctx.print(`${ctx.args.id}: ${reply.health ?? 'unchanged'}\n`);
  },
};

export const servicesCommands: CommandGroup = {
  name: 'services',
  summary: 'service discovery: list, inspect, watch, register and deregister services',
  commands: [ls, show, watch, register, deregister, check],
};
