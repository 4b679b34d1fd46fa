import type { FleetStatus } from '#contracts/config';
import type { OptionSpec } from '../core/args.js';
import type { Command, CommandContext } from '../core/command.js';
import { UsageError } from '../core/errors.js';
import { formatDuration, formatPercent, parseDuration, progressBar } from '../core/format.js';
import { LiveView } from '../core/live-view.js';
import { watchLoop } from '../core/watch.js';

/** `--wait` and `--timeout`, for every command that changes what nodes should have. */
export const waitOptions: readonly OptionSpec[] = [
  { name: 'wait', type: 'boolean', description: 'then follow the nodes until each has applied or failed (exit 3 if any failed or the timeout passed)' },
  { name: 'wait-timeout', type: 'string', placeholder: 'duration', default: '10m', description: 'with --wait: give up after this long' },
];

const n = (x: number) => x.toLocaleString('en-US');

/**
 * Every node's stored desired state follows the deployment (stable, canary). Right after a
 * publish it does not yet (the service says `reconciling`), and the nodes still in sync with the
 * old revision must not count.
 */
export function desiredCaughtUp(f: FleetStatus): boolean {
  if (f.reconciling) return false;
  const current = (f.byDesiredRevision[String(f.stableRevision)] ?? 0) + (f.canary ? (f.byDesiredRevision[String(f.canary.revision)] ?? 0) : 0);
  return current === f.nodes;
}

/**
 * The progress frame: nodes that applied their desired content, failed it, or have not answered
 * yet, against the whole fleet. Pure, for the specs.
 */
export function renderConfigProgress(f: FleetStatus, elapsedMs: number): string[] {
  const failedNow = Math.max(0, f.nodes - f.inSync - f.pending - f.silent);
  const fraction = f.nodes ? f.inSync / f.nodes : 1;
  const target = f.canary ? `stable ${f.stableRevision}, canary ${f.canary.revision} on ${n(f.canary.nodes)} node(s)` : `revision ${f.stableRevision}`;
  const lines = [
    `config ${target} — ${formatDuration(elapsedMs)}${desiredCaughtUp(f) ? '' : ' (nodes still being told)'}`,
    `${progressBar(fraction, 30)} ${n(f.inSync)}/${n(f.nodes)} applied (${formatPercent(fraction)})`,
    `failed ${n(failedNow)}, waiting ${n(f.pending)}, drifted ${n(f.drifted)}${f.silent ? `, silent ${n(f.silent)} (never reported: no config feature?)` : ''}`,
  ];
  const revisions = Object.entries(f.byAppliedRevision).sort(([a], [b]) => (a === 'none' ? 1 : b === 'none' ? -1 : Number(b) - Number(a)));
  lines.push(`applied revisions: ${revisions.map(([r, count]) => `${r}: ${n(count)}`).join(', ') || '-'}`);
  return lines;
}

/**
 * Follows the fleet until no node is still waiting (every one applied or failed its desired
 * content) or the timeout passes. Exit code 0 when all applied, else 3 (like `config status`).
 */
export async function followConfig(ctx: CommandContext): Promise<number> {
  let timeoutMs: number;
  let intervalMs: number;
  try {
    timeoutMs = parseDuration(String(ctx.options['wait-timeout'] ?? '10m'));
    intervalMs = parseDuration(String(ctx.options.interval ?? '1s'));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const view = new LiveView(ctx.io.stdout);
  const started = Date.now();
  let last: FleetStatus | undefined;
  const why = await watchLoop({
    intervalMs: Math.max(100, intervalMs),
    tick: async () => {
      last = await ctx.client.get<FleetStatus>('/api/v1/config/status');
      const elapsed = Date.now() - started;
      if (ctx.output === 'json') ctx.print(JSON.stringify({ at: new Date().toISOString(), status: last }));
      else view.render(renderConfigProgress(last, elapsed));
      return (desiredCaughtUp(last) && last.pending === 0) || elapsed >= timeoutMs;
    },
  });
  view.done();
  const f = last!;
  const failed = Math.max(0, f.nodes - f.inSync - f.pending - f.silent);
  const done = desiredCaughtUp(f) && f.pending === 0;
  if (why === 'interrupted') ctx.note('stopped following; the nodes carry on');
  else if (!done) {
    ctx.note(`timed out after ${formatDuration(timeoutMs)}: ${n(f.pending)} node(s) have not answered yet (offline nodes converge when they return)`);
  }
  if (failed > 0) ctx.note(`${n(failed)} node(s) failed to apply; see fleetctl config status <node>`);
  if (f.silent > 0) ctx.note(`${n(f.silent)} node(s) never reported any config state (agents without the config feature?); not waited for`);
  return done && failed === 0 ? 0 : 3;
}

export const watchConfig: Command = {
  path: ['config', 'watch'],
  summary: 'Follow the fleet until every node has applied (or failed) its desired config',
  description: 'Redraws in place on a terminal, prints changed lines otherwise; -o json prints one status per line. Exits 0 when every node applied, 3 when some failed or the timeout passed.',
  options: [
    { name: 'wait-timeout', type: 'string', placeholder: 'duration', default: '10m', description: 'give up after this long' },
    { name: 'interval', type: 'string', placeholder: 'duration', default: '1s', description: 'refresh period' },
  ],
  examples: ['fleetctl config watch', 'fleetctl config publish -m "raise limits" --wait --wait-timeout 5m'],
  run: followConfig,
};
