import { describe, expect, it } from 'vitest';
import type { CommandGroup } from './command.js';
import { COMMAND_GROUPS } from '../commands/index.js';
import { GLOBAL_OPTIONS, commandHelp, resolveCommand } from './registry.js';

const noop = async () => undefined;
const groups: CommandGroup[] = [
  {
    name: 'nodes',
    summary: 'machines',
    commands: [
      { path: ['nodes', 'ls'], summary: 'list', run: noop },
      { path: ['nodes', 'show'], summary: 'show', args: [{ name: 'id', description: 'node id' }], run: noop },
    ],
  },
];

describe('resolveCommand', () => {
  it('finds the command wherever global options sit', () => {
    const r = resolveCommand(['--server', 'http://x', '-o', 'json', 'nodes', 'show', 'ls'], groups);
    expect(r.command?.path).toEqual(['nodes', 'show']);
    expect(r.rest).toEqual(['--server', 'http://x', '-o', 'json', 'ls']);
  });

  it('reports what it could not resolve', () => {
    expect(resolveCommand(['nodez'], groups)).toMatchObject({ unknown: 'nodez' });
    expect(resolveCommand(['nodez'], groups).command).toBeUndefined();
    const r = resolveCommand(['nodes', 'dance'], groups);
    expect(r).toMatchObject({ group: groups[0], unknown: 'dance' });
    expect(r.command).toBeUndefined();
  });

  it('writes usage with arguments and global options', () => {
    const help = commandHelp(groups[0].commands[1]);
    expect(help).toContain('Usage: fleetctl nodes show ID [options]');
    expect(help).toContain('--server <url>');
  });
});

describe('the command set', () => {
  it('has no command option that shadows a global one (it would take the global value)', () => {
    const globals = new Set(GLOBAL_OPTIONS.flatMap((o) => [o.name, ...(o.short ? [o.short] : [])]));
    const clashes = COMMAND_GROUPS.flatMap((g) => g.commands).flatMap((c) =>
      (c.options ?? []).filter((o) => globals.has(o.name) || (o.short && globals.has(o.short))).map((o) => `${c.path.join(' ')} --${o.name}`),
    );
    expect(clashes).toEqual([]);
  });
});
