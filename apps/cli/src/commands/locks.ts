import type { Command, CommandGroup } from '../core/command.js';
import { formatAge } from '../core/format.js';
import { renderTable } from '../core/table.js';
import type { GroupLocks } from './rollouts.js';

interface LockRow {
  group: string;
  used: string;
  source: string;
  window: string;
  holder: string;
  held: string;
  expires: string;
}

const ls: Command = {
  path: ['locks', 'ls'],
  summary: 'Reboot slots per group: capacity, window, holders (agents and FleetLock clients)',
  options: [{ name: 'group', type: 'string', description: 'only this group' }],
  async run(ctx) {
    const { items } = await ctx.client.get<{ items: Array<GroupLocks & { policySource: string }> }>('/api/v1/locks', {
      query: { group: ctx.options.group as string | undefined },
    });
    if (ctx.output === 'json') {
      ctx.printJson({ items });
      return;
    }
    const rows: LockRow[] = items.flatMap((g) => {
      const base = { group: g.group, used: `${g.holders.length}/${g.capacity}`, source: g.policySource, window: g.windowOpen ? 'open' : 'closed' };
      if (g.holders.length === 0) return [{ ...base, holder: '-', held: '', expires: '' }];
      return g.holders.map((h) => ({ ...base, holder: h.id, held: formatAge(h.acquiredAt), expires: h.expiresAt }));
    });
    ctx.print(
      renderTable(
        [
          { header: 'group', value: (r: LockRow) => r.group },
          { header: 'used', value: (r) => r.used },
          { header: 'policy', value: (r) => r.source },
          { header: 'window', value: (r) => r.window },
          { header: 'holder', value: (r) => r.holder },
          { header: 'held', value: (r) => r.held },
          { header: 'expires', value: (r) => r.expires },
        ],
        rows,
      ),
    );
  },
};

const release: Command = {
  path: ['locks', 'release'],
  summary: "Force-release reboot slots (admin): one holder's, or every holder's in the group",
  args: [{ name: 'group', description: 'group' }],
  options: [{ name: 'id', type: 'string', description: 'holder (node id or FleetLock id); omitted: all holders of the group' }],
  async run(ctx) {
    const id = ctx.options.id as string | undefined;
    const res = await ctx.client.post<{ released: string[] }>(`/api/v1/locks/${encodeURIComponent(ctx.args.group as string)}/release`, id ? { id } : {});
    if (ctx.output === 'json') ctx.printJson(res);
    else ctx.print(res.released.length ? `released: ${res.released.join(', ')}` : 'nothing was held');
  },
};

export const locksCommands: CommandGroup = {
  name: 'locks',
  summary: 'Reboot slots (the per-group semaphore)',
  commands: [ls, release],
};
