import type { OptionSpec } from './args.js';
import type { Command, CommandGroup } from './command.js';

export const DEFAULT_SERVER = 'http://127.0.0.1:8080';

/** Options every command takes. */
export const GLOBAL_OPTIONS: readonly OptionSpec[] = [
  { name: 'server', type: 'string', placeholder: 'url', description: `gateway URL (env FLEETCTL_SERVER, default ${DEFAULT_SERVER})` },
  { name: 'token', type: 'string', placeholder: 'token', description: 'API token (env FLEETCTL_TOKEN)' },
  { name: 'output', short: 'o', type: 'string', choices: ['table', 'json'], placeholder: 'format', description: 'table (default) or json' },
  { name: 'timeout', type: 'number', placeholder: 'seconds', description: 'HTTP timeout (default 30)' },
  { name: 'help', short: 'h', type: 'boolean', description: 'show help' },
];

export interface Resolved {
  group?: CommandGroup;
  command?: Command;
  /** argv without the words that named the command. */
  rest: string[];
  /** The leading words that named nothing (for "unknown command" messages). */
  unknown?: string;
}

/**
 * Finds the command named by the leading words of argv, skipping global options (and their
 * values) wherever they appear: `fleetctl -o json nodes ls` and `fleetctl nodes ls -o json` are
 * the same command.
 */
export function resolveCommand(argv: readonly string[], groups: readonly CommandGroup[]): Resolved {
  const valued = new Set(
    GLOBAL_OPTIONS.filter((o) => o.type !== 'boolean').flatMap((o) => [`--${o.name}`, ...(o.short ? [`-${o.short}`] : [])]),
  );
  const words: Array<{ word: string; index: number }> = [];
  for (let i = 0; i < argv.length && words.length < 3; i++) {
    const token = argv[i];
    if (token === '--') break;
    if (token.startsWith('-')) {
      if (valued.has(token)) i++;
      continue;
    }
    words.push({ word: token, index: i });
  }
  const group = groups.find((g) => g.name === words[0]?.word);
  if (!group) return { rest: [...argv], unknown: words[0]?.word };
  let best: Command | undefined;
  for (const command of group.commands) {
    const path = command.path;
    if (path.every((p, i) => words[i]?.word === p) && (!best || path.length > best.path.length)) best = command;
  }
  const used = new Set(words.slice(0, best ? best.path.length : 1).map((w) => w.index));
  const rest = argv.filter((_, i) => !used.has(i));
  return { group, command: best, rest, unknown: best ? undefined : words[1]?.word };
}

function optionLine(o: OptionSpec): [string, string] {
  const flag = `${o.short ? `-${o.short}, ` : '    '}--${o.name}${o.type === 'boolean' ? '' : ` <${o.placeholder ?? o.type}>`}`;
  const extra = o.choices ? ` (${o.choices.join('|')})` : '';
  return [flag, `${o.description}${extra}${o.multiple ? ' (repeatable)' : ''}`];
}

function columns(rows: Array<[string, string]>, indent = '  '): string {
  const width = Math.max(0, ...rows.map(([a]) => a.length));
  return rows.map(([a, b]) => `${indent}${a.padEnd(width)}  ${b}`.trimEnd()).join('\n');
}

export function rootHelp(groups: readonly CommandGroup[]): string {
  return [
    'fleetctl: manage a Fleetcore fleet from the command line',
    '',
    'Usage: fleetctl <area> <command> [arguments] [options]',
    '',
    'Areas:',
    columns(groups.map((g) => [g.name, g.summary])),
    '',
    'Global options:',
    columns(GLOBAL_OPTIONS.map(optionLine)),
    '',
    'Run `fleetctl <area> --help` for its commands. Exit codes: 0 ok, 1 failed (the server\'s',
    'error code and message go to stderr), 2 usage error.',
    '',
  ].join('\n');
}

export function groupHelp(group: CommandGroup): string {
  return [
    `fleetctl ${group.name}: ${group.summary}`,
    '',
    'Commands:',
    columns(group.commands.map((c) => [[...c.path, ...(c.args ?? []).map(argLabel)].join(' '), c.summary])),
    '',
    `Run \`fleetctl ${group.name} <command> --help\` for details.`,
    '',
  ].join('\n');
}

function argLabel(a: { name: string; optional?: boolean; variadic?: boolean }): string {
  const name = `${a.name.toUpperCase()}${a.variadic ? '...' : ''}`;
  return a.optional ? `[${name}]` : name;
}

export function commandHelp(command: Command): string {
  const usage = ['fleetctl', ...command.path, ...(command.args ?? []).map(argLabel), '[options]'].join(' ');
  const parts = [`${command.summary}`, '', `Usage: ${usage}`];
  if (command.description) parts.push('', command.description);
  if (command.args?.length) parts.push('', 'Arguments:', columns(command.args.map((a) => [argLabel(a), a.description])));
  if (command.options?.length) parts.push('', 'Options:', columns(command.options.map(optionLine)));
  parts.push('', 'Global options:', columns(GLOBAL_OPTIONS.map(optionLine)));
  if (command.examples?.length) parts.push('', 'Examples:', ...command.examples.map((e) => `  ${e}`));
  return parts.join('\n') + '\n';
}
