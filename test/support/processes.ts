import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { resolve } from 'node:path';

/** Repository root, for paths into dist/ and bin/. */
export const REPO = resolve(import.meta.dirname, '../..');

/** Output kept per process: enough for assertions and failure messages, bounded for long runs. */
const MAX_OUTPUT = 1_000_000;

export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => res(port));
    });
  });
}

export interface SpawnedProcess {
  child: ChildProcess;
  /** What the process wrote so far, stdout and stderr interleaved (the last MAX_OUTPUT chars). */
  output(): string;
}

/** Runs `node <args>` from the repository root with extra environment (undefined unsets). */
export function spawnNode(args: string[], env: Record<string, string | undefined> = {}): SpawnedProcess {
  const child = spawn(process.execPath, args, {
    cwd: REPO,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const append = (d: Buffer) => {
    output += String(d);
    if (output.length > MAX_OUTPUT) output = output.slice(-MAX_OUTPUT);
  };
  child.stdout!.on('data', append);
  child.stderr!.on('data', append);
  return { child, output: () => output };
}

/** `node <script> <args…>`: the common shape of starting a service or an agent. */
export function startScript(script: string, args: string[] = [], env: Record<string, string | undefined> = {}): SpawnedProcess {
  return spawnNode([script, ...args], env);
}

/** Resolves with the exit code (null when ended by a signal), at once if it already exited. */
export function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((r) => child.once('exit', (code) => r(code)));
}

/**
 * Sends `signal` (SIGTERM by default), then SIGKILL after `graceMs`; resolves with the exit code.
 * `stopProcess(child, 0, 'SIGKILL')` kills at once.
 */
export async function stopProcess(
  child: ChildProcess | undefined,
  graceMs = 10_000,
  signal: NodeJS.Signals = 'SIGTERM',
): Promise<number | null> {
  if (!child) return null;
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const done = exited(child);
  child.kill(signal);
  const timer = signal === 'SIGKILL' ? undefined : setTimeout(() => child.kill('SIGKILL'), graceMs);
  const code = await done;
  clearTimeout(timer);
  return code;
}
