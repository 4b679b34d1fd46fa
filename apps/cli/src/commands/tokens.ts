import type { Command, CommandGroup } from '../core/command.js';
import { UsageError } from '../core/errors.js';
import { formatAge, parseDuration } from '../core/format.js';
import { renderTable } from '../core/table.js';

interface TokenView {
  id: string;
  name: string;
  role: string;
  prefix: string;
  createdAt: string;
  createdBy: string | null;
  lastUsedAt: string | null;
  expiresAt: string | null;
  revokedAt: string | null;
}

const create: Command = {
  path: ['tokens', 'create'],
  summary: 'Create an API token (admin); its secret is printed once',
  options: [
    { name: 'name', type: 'string', description: 'a unique name, e.g. ci-deploy' },
    { name: 'role', type: 'string', choices: ['viewer', 'operator', 'admin'], description: 'what the token may do' },
    { name: 'expires-in', type: 'string', placeholder: 'duration', description: 'lifetime, e.g. 30d or 12h (default: never expires)' },
  ],
  examples: ['fleetctl tokens create --name ci --role operator --expires-in 90d'],
  async run(ctx) {
    const name = ctx.options.name as string | undefined;
    const role = ctx.options.role as string | undefined;
    if (!name || !role) throw new UsageError('--name and --role are required');
    const expires = ctx.options['expires-in'] as string | undefined;
    let expiresInSeconds: number | undefined;
    if (expires) {
      try {
        expiresInSeconds = Math.round(parseDuration(expires) / 1000);
      } catch (err) {
        throw new UsageError(`--expires-in: ${(err as Error).message}`);
      }
    }
    const created = await ctx.client.post<TokenView & { token: string }>('/api/v1/tokens', { name, role, expiresInSeconds });
    if (ctx.output === 'json') {
      ctx.printJson(created);
      return;
    }
    ctx.print(`${created.token}`);
    ctx.note(`Token "${created.name}" (${created.role}, id ${created.id}) created. Store the secret above now: it is not shown again.`);
  },
};

const ls: Command = {
  path: ['tokens', 'ls'],
  summary: 'List API tokens (admin)',
  options: [{ name: 'all', type: 'boolean', description: 'include revoked tokens' }],
  async run(ctx) {
    const { items } = await ctx.client.get<{ items: TokenView[] }>('/api/v1/tokens', {
      query: { includeRevoked: ctx.options.all ? 'true' : undefined },
    });
    if (ctx.output === 'json') {
      ctx.printJson({ items });
      return;
    }
    ctx.print(
      renderTable(
        [
          { header: 'id', value: (t: TokenView) => t.id },
          { header: 'name', value: (t) => t.name },
          { header: 'role', value: (t) => t.role },
          { header: 'prefix', value: (t) => `${t.prefix}…` },
          { header: 'age', value: (t) => formatAge(t.createdAt) },
          { header: 'last used', value: (t) => (t.lastUsedAt ? `${formatAge(t.lastUsedAt)} ago` : 'never') },
          { header: 'expires', value: (t) => t.expiresAt ?? 'never' },
          ...(ctx.options.all ? [{ header: 'revoked', value: (t: TokenView) => t.revokedAt ?? '' }] : []),
        ],
        items,
      ),
    );
  },
};

const rm: Command = {
  path: ['tokens', 'rm'],
  summary: 'Revoke an API token (admin)',
  args: [{ name: 'id', description: 'token id (from tokens ls)' }],
  async run(ctx) {
    const revoked = await ctx.client.delete<TokenView>(`/api/v1/tokens/${encodeURIComponent(ctx.args.id as string)}`);
    if (ctx.output === 'json') ctx.printJson(revoked);
    else ctx.print(`token ${revoked.name} (${revoked.id}) revoked`);
  },
};

export const tokensCommands: CommandGroup = {
  name: 'tokens',
  summary: 'API tokens and their roles (admin)',
  commands: [create, ls, rm],
};
