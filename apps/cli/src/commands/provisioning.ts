import type { GroupView, ProfileView } from '#contracts/config';
import type { Command, CommandContext, CommandGroup } from '../core/command.js';
import { UsageError } from '../core/errors.js';
import { formatAge } from '../core/format.js';
import { parseJsonInput, readInput } from '../core/input.js';
import { renderTable } from '../core/table.js';

/** `k=v` pairs from a repeatable option. */
function pairs(ctx: CommandContext, name: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of (ctx.options[name] as string[] | undefined) ?? []) {
    const i = item.indexOf('=');
    if (i <= 0) throw new UsageError(`--${name} takes key=value, got "${item}"`);
    out[item.slice(0, i)] = item.slice(i + 1);
  }
  return out;
}

const profilesLs: Command = {
  path: ['provisioning', 'profiles', 'ls'],
  summary: 'Ignition profiles',
  async run(ctx) {
    const { profiles } = await ctx.client.get<{ profiles: ProfileView[] }>('/api/v1/provisioning/profiles');
    if (ctx.output === 'json') return void ctx.printJson({ profiles });
    ctx.print(renderTable([
      { header: 'name', value: (p: ProfileView) => p.name },
      { header: 'description', value: (p) => p.description ?? '' },
      { header: 'updated', value: (p) => formatAge(p.updatedAt) },
    ], profiles));
  },
};

const profilesShow: Command = {
  path: ['provisioning', 'profiles', 'show'],
  summary: "A profile's Ignition template",
  args: [{ name: 'name', description: 'profile' }],
  async run(ctx) {
    ctx.printJson(await ctx.client.get(`/api/v1/provisioning/profiles/${encodeURIComponent(ctx.args.name as string)}`));
  },
};

const profilesSet: Command = {
  path: ['provisioning', 'profiles', 'set'],
  summary: 'Create or replace a profile from an Ignition 3.4.0 JSON file ({{placeholders}} allowed in strings)',
  args: [{ name: 'name', description: 'profile' }],
  options: [
    { name: 'file', type: 'string', description: 'Ignition config JSON (- for stdin)', placeholder: 'file' },
    { name: 'description', type: 'string', description: 'one line about it' },
  ],
  examples: ['fleetctl provisioning profiles set worker --file worker.ign'],
  async run(ctx) {
    if (!ctx.options.file) throw new UsageError('--file is required');
    const ignition = parseJsonInput(await readInput(ctx.options.file as string), ctx.options.file as string);
    const res = await ctx.client.put(`/api/v1/provisioning/profiles/${encodeURIComponent(ctx.args.name as string)}`, {
      ignition,
      ...(ctx.options.description ? { description: ctx.options.description } : {}),
    });
    if (ctx.output === 'json') ctx.printJson(res);
    else ctx.print(`profile ${ctx.args.name} saved`);
  },
};

const profilesRm: Command = {
  path: ['provisioning', 'profiles', 'rm'],
  summary: 'Delete a profile (refused while a group uses it)',
  args: [{ name: 'name', description: 'profile' }],
  async run(ctx) {
    await ctx.client.delete(`/api/v1/provisioning/profiles/${encodeURIComponent(ctx.args.name as string)}`);
    ctx.print(`profile ${ctx.args.name} deleted`);
  },
};

const groupsLs: Command = {
  path: ['provisioning', 'groups', 'ls'],
  summary: 'Machine groups: selector → profile',
  async run(ctx) {
    const { groups } = await ctx.client.get<{ groups: GroupView[] }>('/api/v1/provisioning/groups');
    if (ctx.output === 'json') return void ctx.printJson({ groups });
    const sel = (g: GroupView) =>
      [g.selector.mac && `mac=${g.selector.mac}`, g.selector.uuid && `uuid=${g.selector.uuid}`, g.selector.hostname && `hostname=${g.selector.hostname}`, ...Object.entries(g.selector.labels ?? {}).map(([k, v]) => `${k}=${v}`)]
        .filter(Boolean)
        .join(',') || '(default)';
    ctx.print(renderTable([
      { header: 'name', value: (g: GroupView) => g.name },
      { header: 'selector', value: sel },
      { header: 'profile', value: (g) => g.profile },
      { header: 'metadata', value: (g) => Object.keys(g.metadata).join(',') },
    ], groups));
  },
};

const groupsSet: Command = {
  path: ['provisioning', 'groups', 'set'],
  summary: 'Create or replace a group (no selector = the default group)',
  args: [{ name: 'name', description: 'group' }],
  options: [
    { name: 'profile', type: 'string', description: 'profile to serve (required)' },
    { name: 'mac', type: 'string', description: 'match this MAC address' },
    { name: 'uuid', type: 'string', description: 'match this machine UUID' },
    { name: 'hostname', type: 'string', description: 'match this hostname' },
    { name: 'label', type: 'string', multiple: true, description: 'match a query label, key=value', placeholder: 'k=v' },
    { name: 'meta', type: 'string', multiple: true, description: 'template metadata, key=value', placeholder: 'k=v' },
  ],
  examples: ['fleetctl provisioning groups set rack1 --profile worker --label rack=1 --meta token=$(cat bootstrap.token)'],
  async run(ctx) {
    if (!ctx.options.profile) throw new UsageError('--profile is required');
    const labels = pairs(ctx, 'label');
    const selector = {
      ...(ctx.options.mac ? { mac: ctx.options.mac } : {}),
      ...(ctx.options.uuid ? { uuid: ctx.options.uuid } : {}),
      ...(ctx.options.hostname ? { hostname: ctx.options.hostname } : {}),
      ...(Object.keys(labels).length ? { labels } : {}),
    };
    const res = await ctx.client.put(`/api/v1/provisioning/groups/${encodeURIComponent(ctx.args.name as string)}`, {
      profile: ctx.options.profile,
      selector,
      metadata: pairs(ctx, 'meta'),
    });
    if (ctx.output === 'json') ctx.printJson(res);
    else ctx.print(`group ${ctx.args.name} saved`);
  },
};

const groupsRm: Command = {
  path: ['provisioning', 'groups', 'rm'],
  summary: 'Delete a group',
  args: [{ name: 'name', description: 'group' }],
  async run(ctx) {
    await ctx.client.delete(`/api/v1/provisioning/groups/${encodeURIComponent(ctx.args.name as string)}`);
    ctx.print(`group ${ctx.args.name} deleted`);
  },
};

const render: Command = {
  path: ['provisioning', 'render'],
  summary: 'What GET /ignition would return for a machine',
  options: [
    { name: 'mac', type: 'string', description: 'MAC address' },
    { name: 'uuid', type: 'string', description: 'machine UUID' },
    { name: 'hostname', type: 'string', description: 'hostname' },
    { name: 'label', type: 'string', multiple: true, description: 'extra key=value facts', placeholder: 'k=v' },
  ],
  async run(ctx) {
    const query = { mac: ctx.options.mac as string | undefined, uuid: ctx.options.uuid as string | undefined, hostname: ctx.options.hostname as string | undefined, ...pairs(ctx, 'label') };
    ctx.printJson(await ctx.client.get('/ignition', { query }));
  },
};

export const provisioningCommands: CommandGroup = {
  name: 'provisioning',
  summary: 'First boot: Ignition profiles and machine groups',
  commands: [profilesLs, profilesShow, profilesSet, profilesRm, groupsLs, groupsSet, groupsRm, render],
};
