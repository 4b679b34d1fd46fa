import { pathToFileURL } from 'node:url';
import { COMMAND_GROUPS } from './commands/index.js';
import { bindArgs, parseArgs } from './core/args.js';
import { ApiClient } from './core/client.js';
import type { CliIO, CommandContext, CommandGroup, OutputFormat } from './core/command.js';
import { ApiError, EXIT, UsageError } from './core/errors.js';
import { DEFAULT_SERVER, GLOBAL_OPTIONS, commandHelp, groupHelp, resolveCommand, rootHelp } from './core/registry.js';

/**
 * fleetctl's entry: resolves the command, parses its options, runs it and returns the exit code
 * (0 ok, 1 failure, 2 usage). Plain Node, no framework, so it starts fast.
 */
export async function main(
  argv: readonly string[],
  io: CliIO = { stdout: process.stdout, stderr: process.stderr, env: process.env },
  groups: readonly CommandGroup[] = COMMAND_GROUPS,
): Promise<number> {
  const { group, command, rest, unknown } = resolveCommand(argv, groups);
  let output: OutputFormat = 'table';
  try {
    if (!command) {
      const helpAsked = argv.length === 0 || argv.includes('--help') || argv.includes('-h') || argv[0] === 'help';
      if (group && (helpAsked || unknown === undefined)) {
        io.stdout.write(groupHelp(group));
        return unknown === undefined && !helpAsked ? EXIT.usage : EXIT.ok;
      }
      if (!group && (helpAsked || unknown === undefined)) {
        io.stdout.write(rootHelp(groups));
        return helpAsked ? EXIT.ok : EXIT.usage;
      }
      throw new UsageError(group ? `unknown command "${group.name} ${unknown}"` : `unknown area "${unknown}"`);
    }
    const { options, positionals } = parseArgs(rest, [...GLOBAL_OPTIONS, ...(command.options ?? [])]);
    if (options.help) {
      io.stdout.write(commandHelp(command));
      return EXIT.ok;
    }
    const args = bindArgs(positionals, command.args ?? []);
    output = (options.output as OutputFormat | undefined) ?? 'table';
    const server = (options.server as string | undefined) ?? io.env.FLEETCTL_SERVER ?? DEFAULT_SERVER;
    const token = (options.token as string | undefined) ?? io.env.FLEETCTL_TOKEN;
    const timeoutMs = ((options.timeout as number | undefined) ?? 30) * 1000;
    let client: ApiClient | undefined;
    const ctx: CommandContext = {
      args,
      options,
      output,
      io,
      get client() {
        client ??= new ApiClient(server, token, timeoutMs);
        return client;
      },
      print: (text) => void io.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
      printJson: (value) => void io.stdout.write(`${JSON.stringify(value, null, 2)}\n`),
      note: (text) => void io.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
    };
    return (await command.run(ctx)) ?? EXIT.ok;
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr.write(`fleetctl: ${err.message}\n`);
      const where = command ? ` ${command.path.join(' ')}` : group ? ` ${group.name}` : '';
      io.stderr.write(`Run \`fleetctl${where} --help\` for usage.\n`);
      return EXIT.usage;
    }
    if (err instanceof ApiError) {
      if (output === 'json') io.stderr.write(`${JSON.stringify({ code: err.code, message: err.message, ...(err.details ? { details: err.details } : {}) })}\n`);
      else io.stderr.write(`Error: ${err.code}: ${err.message}\n${detailLines(err.details)}`);
      return EXIT.failure;
    }
    io.stderr.write(`fleetctl: ${(err as Error).message ?? String(err)}\n`);
    return EXIT.failure;
  }
}

/** Validation issues from the server, one per line. */
function detailLines(details: unknown): string {
  const issues = (details as { issues?: Array<{ path?: string; message?: string }> } | undefined)?.issues;
  if (!Array.isArray(issues) || issues.length <= 1) return '';
  return issues.map((i) => `  - ${i.path ?? ''}: ${i.message ?? ''}\n`).join('');
}

/** For launchers (`bin/fleetctl.js`): runs with the process's arguments and sets its exit code. */
export async function run(): Promise<void> {
  process.exitCode = await main(process.argv.slice(2));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await run();
}
