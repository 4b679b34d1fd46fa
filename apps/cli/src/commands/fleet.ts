import type { FleetSummary } from '#contracts/inventory';
import type { Command, CommandGroup } from '../core/command.js';
import { ApiError } from '../core/errors.js';
import { formatDuration } from '../core/format.js';
import { renderTable } from '../core/table.js';

/** `/readyz` answer (see docs/gateway.md). */
interface Readiness {
  ready: boolean;
  nats: { connected: boolean };
  services: Array<{ name: string; ok: boolean; latencyMs: number; version?: string; uptimeSeconds?: number; error?: { code: string; message: string } }>;
}

function counts(title: string, byKey: Record<string, number>): string {
  const entries = Object.entries(byKey).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  if (entries.length === 0) return `${title}: -`;
  return `${title}: ${entries.map(([k, n]) => `${k} ${n}`).join(', ')}`;
}

const status: Command = {
  path: ['fleet', 'status'],
  summary: 'Fleet summary and platform readiness',
  description: 'Exits 1 when the platform is not ready (a required service does not answer).',
  async run(ctx) {
    const readiness = await ctx.client.get<Readiness>('/readyz', { accept: [503] });
    let summary: FleetSummary | null = null;
    let summaryError: ApiError | null = null;
    try {
      summary = await ctx.client.get<FleetSummary>('/api/v1/fleet/summary');
    } catch (err) {
      // When the inventory is down the readiness table says why; an auth problem is still fatal.
      if (!(err instanceof ApiError) || ['unauthorized', 'forbidden'].includes(err.code)) throw err;
      summaryError = err;
    }
    if (ctx.output === 'json') {
      ctx.printJson({ ready: readiness.ready, readiness, summary, ...(summaryError ? { summaryError: { code: summaryError.code, message: summaryError.message } } : {}) });
      return readiness.ready ? 0 : 1;
    }
    const lines = [`Platform: ${readiness.ready ? 'ready' : 'NOT READY'} (NATS ${readiness.nats.connected ? 'connected' : 'disconnected'})`, ''];
    lines.push(
      renderTable(
        [
          { header: 'service', value: (s: Readiness['services'][number]) => s.name },
          { header: 'status', value: (s) => (s.ok ? 'up' : 'down') },
          { header: 'version', value: (s) => s.version },
          { header: 'uptime', value: (s) => (s.uptimeSeconds === undefined ? undefined : formatDuration(s.uptimeSeconds * 1000)) },
          { header: 'latency', value: (s) => `${s.latencyMs}ms`, align: 'right' },
          { header: 'error', value: (s) => (s.error ? `${s.error.code}: ${s.error.message}` : '') },
        ],
        readiness.services,
      ),
    );
    if (summary) {
      lines.push(
        `Nodes: ${summary.total}`,
        counts('  by status', summary.byStatus),
        counts('  by health', summary.byHealth),
        counts('  by OS version', summary.byOsVersion),
        counts('  by channel', summary.byChannel),
        counts('  by group', summary.byGroup),
      );
    } else if (summaryError) {
      lines.push(`Nodes: unknown (${summaryError.code}: ${summaryError.message})`);
    }
    ctx.print(lines.join('\n'));
    return readiness.ready ? 0 : 1;
  },
};

export const fleetCommands: CommandGroup = {
  name: 'fleet',
  summary: 'fleet-wide status',
  commands: [status],
};
