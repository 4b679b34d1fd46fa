import type { Command, CommandGroup } from '../core/command.js';
import { renderTable } from '../core/table.js';

interface AuditEntry {
  id: string;
  at: string;
  tokenId: string | null;
  actor: string;
  role: string | null;
  method: string;
  path: string;
  status: number;
  requestId: string;
  ip: string | null;
}

interface AuditPage {
  items: AuditEntry[];
  nextCursor: string | null;
}

const ls: Command = {
  path: ['audit', 'ls'],
  summary: 'Show the audit log of changes, newest first (admin)',
  options: [
    { name: 'actor', type: 'string', description: 'only requests by this token name (or "anonymous")' },
    { name: 'method', type: 'string', choices: ['POST', 'PUT', 'PATCH', 'DELETE'], description: 'only this method' },
    { name: 'limit', type: 'number', description: 'entries per page (default 100, max 1000)' },
    { name: 'cursor', type: 'string', description: 'continue from a previous page' },
    { name: 'all', type: 'boolean', description: 'fetch every page' },
  ],
  async run(ctx) {
    const o = ctx.options;
    const query = { actor: o.actor as string | undefined, method: o.method as string | undefined, limit: o.limit as number | undefined, cursor: o.cursor as string | undefined };
    let page = await ctx.client.get<AuditPage>('/api/v1/audit', { query });
    const items = [...page.items];
    while (o.all && page.nextCursor) {
      page = await ctx.client.get<AuditPage>('/api/v1/audit', { query: { ...query, cursor: page.nextCursor } });
      items.push(...page.items);
    }
    if (ctx.output === 'json') {
      ctx.printJson({ items, nextCursor: page.nextCursor });
      return;
    }
    if (items.length === 0) {
      ctx.note('No audit entries.');
      return;
    }
    ctx.print(
      renderTable(
        [
          { header: 'time', value: (e: AuditEntry) => e.at },
          { header: 'actor', value: (e) => e.actor },
          { header: 'role', value: (e) => e.role },
          { header: 'method', value: (e) => e.method },
          { header: 'path', value: (e) => e.path, maxWidth: 60 },
          { header: 'status', value: (e) => e.status, align: 'right' },
          { header: 'request id', value: (e) => e.requestId },
        ],
        items,
      ),
    );
    if (page.nextCursor) ctx.note(`More: --cursor ${page.nextCursor}, or --all.`);
  },
};

export const auditCommands: CommandGroup = {
  name: 'audit',
  summary: 'who changed what, through the API (admin)',
  commands: [ls],
};
