import type { ApiClient } from './client.js';
import type { ArgSpec, OptionSpec, OptionValue } from './args.js';

export interface CliIO {
  stdout: { write(chunk: string): unknown; isTTY?: boolean; columns?: number };
  stderr: { write(chunk: string): unknown };
  env: NodeJS.ProcessEnv;
}

export type OutputFormat = 'table' | 'json';

export interface CommandContext {
  args: Record<string, string | string[]>;
  options: Record<string, OptionValue>;
  output: OutputFormat;
  /** Created on first use, so commands that need no server (`keys gen`) work without one. */
  readonly client: ApiClient;
  io: CliIO;
  /** Writes text to stdout. */
  print(text: string): void;
  /** Writes a value as indented JSON to stdout. */
  printJson(value: unknown): void;
  /** Diagnostics and notes to stderr (never mixed into `-o json` output). */
  note(text: string): void;
}

export interface Command {
  /** Words that name it: `['nodes', 'ls']`. */
  path: readonly string[];
  summary: string;
  /** Longer help, shown by `--help`. */
  description?: string;
  args?: readonly ArgSpec[];
  options?: readonly OptionSpec[];
  examples?: readonly string[];
  /** Returns the exit code (0 when omitted). Throw ApiError/UsageError for failures. */
  run(ctx: CommandContext): Promise<number | void>;
}

/** One area's commands (`nodes`, `rollouts`, …) with a line of help for the group. */
export interface CommandGroup {
  name: string;
  summary: string;
  commands: readonly Command[];
}
