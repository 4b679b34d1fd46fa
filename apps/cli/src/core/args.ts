import { UsageError } from './errors.js';

export interface OptionSpec {
  /** Long name without dashes: `selector` → `--selector`. */
  name: string;
  short?: string;
  type: 'string' | 'number' | 'boolean';
  description: string;
  /** Shown in help: `--selector <expr>`. */
  placeholder?: string;
  choices?: readonly string[];
  default?: string | number | boolean;
  /** May be given several times; the value is an array. */
  multiple?: boolean;
}

export interface ArgSpec {
  name: string;
  description: string;
  optional?: boolean;
  /** Takes every remaining positional (at least one unless optional). */
  variadic?: boolean;
}

export type OptionValue = string | number | boolean | string[] | undefined;

export interface ParsedArgs {
  options: Record<string, OptionValue>;
  positionals: string[];
}

/**
 * Parses `--name value`, `--name=value`, `-x value`, `-x=value`, boolean `--flag`, and `--` (the
 * rest is positional). Unknown options and missing or malformed values are usage errors that name
 * the option.
 */
export function parseArgs(argv: readonly string[], specs: readonly OptionSpec[]): ParsedArgs {
  const byLong = new Map(specs.map((s) => [s.name, s]));
  const byShort = new Map(specs.filter((s) => s.short).map((s) => [s.short!, s]));
  const options: Record<string, OptionValue> = {};
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i];
    if (token === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    const long = /^--([A-Za-z0-9][A-Za-z0-9-]*)(?:=(.*))?$/s.exec(token);
    const short = long ? null : /^-([A-Za-z])(?:=?(.+))?$/s.exec(token);
    if (!long && !short) {
      positionals.push(token);
      continue;
    }
    const name = (long ?? short)![1];
    let inline = (long ?? short)![2];
    const spec = long ? byLong.get(name) : byShort.get(name);
    if (!spec) throw new UsageError(`unknown option ${long ? '--' : '-'}${name}`);
    const label = `--${spec.name}`;
    if (spec.type === 'boolean') {
      if (inline !== undefined && !['true', 'false'].includes(inline)) throw new UsageError(`${label} takes no value`);
      options[spec.name] = inline !== 'false';
      continue;
    }
    if (inline === undefined) {
      if (i + 1 >= argv.length) throw new UsageError(`${label} needs a value`);
      inline = argv[++i];
    }
    let value: string | number = inline;
    if (spec.type === 'number') {
      if (!/^-?\d+(\.\d+)?$/.test(inline)) throw new UsageError(`${label} needs a number, got "${inline}"`);
      value = Number(inline);
    }
    if (spec.choices && !spec.choices.includes(String(value))) {
      throw new UsageError(`${label} must be one of ${spec.choices.join(', ')}; got "${inline}"`);
    }
    if (spec.multiple) options[spec.name] = [...((options[spec.name] as string[] | undefined) ?? []), String(value)];
    else options[spec.name] = value;
  }
  for (const spec of specs) if (options[spec.name] === undefined && spec.default !== undefined) options[spec.name] = spec.default;
  return { options, positionals };
}

/** Binds positionals to named arguments, checking their count. */
export function bindArgs(positionals: readonly string[], specs: readonly ArgSpec[]): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  let i = 0;
  for (const spec of specs) {
    if (spec.variadic) {
      const rest = positionals.slice(i);
      if (rest.length === 0 && !spec.optional) throw new UsageError(`missing ${spec.name.toUpperCase()}...`);
      out[spec.name] = rest;
      i = positionals.length;
      continue;
    }
    const value = positionals[i++];
    if (value === undefined) {
      if (!spec.optional) throw new UsageError(`missing ${spec.name.toUpperCase()}`);
      continue;
    }
    out[spec.name] = value;
  }
  if (i < positionals.length) throw new UsageError(`unexpected argument "${positionals[i]}"`);
  return out;
}
