import { readFile } from 'node:fs/promises';
import { UsageError } from './errors.js';

/** Reads a file argument, or stdin when it is `-` (`fleetctl config set … --file -`). */
export async function readInput(path: string, stdin: NodeJS.ReadableStream = process.stdin): Promise<string> {
  if (path === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
    return Buffer.concat(chunks).toString('utf8');
  }
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** Parses JSON given on the command line or read by `readInput`, naming the source on failure. */
export function parseJsonInput<T = unknown>(text: string, source: string): T {
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new UsageError(`${source} is not valid JSON: ${(err as Error).message}`);
  }
}
