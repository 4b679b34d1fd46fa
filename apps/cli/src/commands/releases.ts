import { readFile } from 'node:fs/promises';
import type { Command, CommandGroup, CommandContext } from '../core/command.js';
import { UsageError } from '../core/errors.js';
import { formatAge, formatBytes, parseDuration } from '../core/format.js';
import { renderFields, renderTable } from '../core/table.js';
import { parsePrivateKey, signPayloadFile } from '../../../agent/src/features/updates/signing.js';

export interface ReleaseView {
  id: string;
  version: string;
  channel: string;
  arch: string;
  payload: { url: string; sha256: string; size: number; signature: string };
  notes: string;
  barrier: { reason: string } | null;
  deadEnd: { reason: string } | null;
  rollout: { startAt: string; startValue: number; durationMinutes: number } | null;
  withdrawn: { reason: string; at: string } | null;
  createdAt: string;
}

async function signWith(keyFile: string, payloadFile: string) {
  let key;
  try {
    key = parsePrivateKey(await readFile(keyFile, 'utf8'));
  } catch (err) {
    throw new UsageError(`--key ${keyFile}: ${(err as Error).message}`);
  }
  try {
    return await signPayloadFile(payloadFile, key);
  } catch (err) {
    throw new UsageError(`--payload ${payloadFile}: ${(err as Error).message}`);
  }
}

const sign: Command = {
  path: ['releases', 'sign'],
  summary: 'Hash and sign a payload file with a release key (offline; no server needed)',
  description: 'Prints sha256, size and the ed25519 signature over the digest: what `releases create` and the agents expect.',
  options: [
    { name: 'key', type: 'string', placeholder: 'file', description: 'private key from `fleetctl keys gen`' },
    { name: 'payload', type: 'string', placeholder: 'file', description: 'the OS image' },
  ],
  examples: ['fleetctl releases sign --key fleet-release.key --payload fleetos-1.2.0.raw'],
  async run(ctx) {
    const key = ctx.options.key as string | undefined;
    const payload = ctx.options.payload as string | undefined;
    if (!key || !payload) throw new UsageError('--key and --payload are required');
    const signed = await signWith(key, payload);
    if (ctx.output === 'json') ctx.printJson(signed);
    else ctx.print(renderFields([['sha256', signed.sha256], ['size', signed.size], ['signature', signed.signature]]));
  },
};

const create: Command = {
  path: ['releases', 'create'],
  summary: 'Publish a release (operator); signs the payload when given --key and --payload',
  options: [
    { name: 'version', type: 'string', description: 'OS version, e.g. 3815.2.0' },
    { name: 'channel', type: 'string', default: 'stable', description: 'channel (stable, beta, alpha, …)' },
    { name: 'arch', type: 'string', default: 'x86_64', description: 'architecture' },
    { name: 'url', type: 'string', description: 'where agents download the payload (http/https)' },
    { name: 'payload', type: 'string', placeholder: 'file', description: 'local copy of the payload, to hash and sign' },
    { name: 'key', type: 'string', placeholder: 'file', description: 'private key to sign with' },
    { name: 'sha256', type: 'string', description: 'payload digest (instead of --payload/--key)' },
    { name: 'size', type: 'number', description: 'payload size in bytes (instead of --payload/--key)' },
    { name: 'signature', type: 'string', description: 'base64 signature (instead of --payload/--key)' },
    { name: 'notes', type: 'string', description: 'release notes' },
    { name: 'barrier', type: 'string', placeholder: 'reason', description: 'every earlier release must update through this one' },
    { name: 'dead-end', type: 'string', placeholder: 'reason', description: 'nodes on this release cannot update further' },
    { name: 'not-target', type: 'boolean', description: 'in the graph, but not an update target (no rollout metadata)' },
    { name: 'ramp', type: 'string', placeholder: 'duration', description: 'Cincinnati ramp: offer to all clients over this long from now' },
  ],
  examples: [
    'fleetctl releases create --version 1.2.0 --url https://images/1.2.0.raw --payload 1.2.0.raw --key fleet-release.key',
    'fleetctl releases create --version 1.3.0 --url https://… --sha256 … --size 1048576 --signature … --barrier "new partition layout"',
  ],
  async run(ctx) {
    const version = ctx.options.version as string | undefined;
    const url = ctx.options.url as string | undefined;
    if (!version || !url) throw new UsageError('--version and --url are required');
    const payload = await payloadOf(ctx, url);
    const body: Record<string, unknown> = {
      version,
      channel: ctx.options.channel,
      arch: ctx.options.arch,
      payload,
      notes: (ctx.options.notes as string | undefined) ?? '',
      barrier: ctx.options.barrier ? { reason: ctx.options.barrier } : null,
      deadEnd: ctx.options['dead-end'] ? { reason: ctx.options['dead-end'] } : null,
    };
    if (ctx.options['not-target']) body.rollout = null;
    else if (ctx.options.ramp) {
      const minutes = Math.round(parseDurationOption(ctx.options.ramp as string, '--ramp') / 60_000);
      body.rollout = { startAt: new Date().toISOString(), startValue: 0, durationMinutes: minutes };
    }
    const created = await ctx.client.post<ReleaseView>('/api/v1/releases', body);
    if (ctx.output === 'json') ctx.printJson(created);
    else ctx.print(`release ${created.version} (${created.channel}/${created.arch}) published: ${created.id}`);
  },
};

async function payloadOf(ctx: CommandContext, url: string) {
  const file = ctx.options.payload as string | undefined;
  const key = ctx.options.key as string | undefined;
  if (file || key) {
    if (!file || !key) throw new UsageError('--payload and --key go together');
    return { url, ...(await signWith(key, file)) };
  }
  const { sha256, size, signature } = ctx.options as { sha256?: string; size?: number; signature?: string };
  if (!sha256 || size === undefined || !signature) {
    throw new UsageError('give --payload and --key, or all of --sha256, --size and --signature');
  }
  return { url, sha256, size, signature };
}

function parseDurationOption(text: string, name: string): number {
  try {
    return parseDuration(text);
  } catch (err) {
    throw new UsageError(`${name}: ${(err as Error).message}`);
  }
}

const ls: Command = {
  path: ['releases', 'ls'],
  summary: 'List releases, newest version first',
  options: [
    { name: 'channel', type: 'string', description: 'only this channel' },
    { name: 'arch', type: 'string', description: 'only this architecture' },
    { name: 'all', type: 'boolean', description: 'include withdrawn releases' },
    { name: 'limit', type: 'number', default: 100, description: 'at most this many' },
  ],
  async run(ctx) {
    const page = await ctx.client.get<{ items: ReleaseView[]; nextCursor: string | null }>('/api/v1/releases', {
      query: {
        channel: ctx.options.channel as string | undefined,
        arch: ctx.options.arch as string | undefined,
        includeWithdrawn: ctx.options.all ? 'true' : undefined,
        limit: ctx.options.limit as number,
      },
    });
    if (ctx.output === 'json') {
      ctx.printJson(page);
      return;
    }
    ctx.print(
      renderTable(
        [
          { header: 'version', value: (r: ReleaseView) => r.version },
          { header: 'channel', value: (r) => r.channel },
          { header: 'arch', value: (r) => r.arch },
          { header: 'size', value: (r) => formatBytes(r.payload.size) },
          { header: 'graph', value: (r) => [r.barrier ? 'barrier' : '', r.deadEnd ? 'dead-end' : '', r.rollout ? '' : 'not-target'].filter(Boolean).join(',') || '-' },
          { header: 'age', value: (r) => formatAge(r.createdAt) },
          { header: 'state', value: (r) => (r.withdrawn ? `withdrawn: ${r.withdrawn.reason}` : 'published') },
          { header: 'id', value: (r) => r.id },
        ],
        page.items,
      ),
    );
  },
};

const withdraw: Command = {
  path: ['releases', 'withdraw'],
  summary: 'Withdraw a release (operator): it leaves the graph and gets no new rollouts',
  args: [{ name: 'id', description: 'release id' }],
  options: [{ name: 'reason', type: 'string', description: 'why (required)' }],
  async run(ctx) {
    const reason = ctx.options.reason as string | undefined;
    if (!reason) throw new UsageError('--reason is required');
    const r = await ctx.client.post<ReleaseView>(`/api/v1/releases/${encodeURIComponent(ctx.args.id as string)}/withdraw`, { reason });
    if (ctx.output === 'json') ctx.printJson(r);
    else ctx.print(`release ${r.version} (${r.channel}/${r.arch}) withdrawn`);
  },
};

export const releasesCommands: CommandGroup = {
  name: 'releases',
  summary: 'OS releases: publish, list, withdraw, sign payloads',
  commands: [create, ls, withdraw, sign],
};
