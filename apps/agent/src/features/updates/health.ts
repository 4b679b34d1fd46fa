import { execFile } from 'node:child_process';
import type { HealthCheckConfig } from './config.js';

export type CheckResult = { ok: true } | { ok: false; name: string; reason: string };

/**
 * Post-boot health checks: every round runs all checks; the update is good as soon as one round
 * passes entirely. Services may need a while to come up after a reboot, so failures are retried
 * until the deadline; the last failure is what gets reported.
 */
export async function runHealthChecks(
  checks: HealthCheckConfig[],
  options: { deadlineMs: number; intervalMs: number; signal?: AbortSignal },
): Promise<CheckResult> {
  const deadline = Date.now() + options.deadlineMs;
  let last: CheckResult = { ok: true };
  for (;;) {
    last = await runRound(checks, Math.max(1, deadline - Date.now()));
    if (last.ok) return last;
    if (options.signal?.aborted) return { ok: false, name: last.name, reason: `${last.reason} (aborted)` };
    const left = deadline - Date.now();
    if (left <= 0) return { ok: false, name: last.name, reason: `${last.reason} (deadline passed)` };
    if (left <= options.intervalMs) return { ok: false, name: last.name, reason: `${last.reason} (deadline passed)` };
    await new Promise((r) => setTimeout(r, options.intervalMs));
  }
}

async function runRound(checks: HealthCheckConfig[], budgetMs: number): Promise<CheckResult> {
  for (const check of checks) {
    const timeout = Math.min(check.timeoutSeconds * 1000, budgetMs);
    const failure = 'command' in check ? await runCommand(check.command, timeout) : await probeUrl(check.url, check.expectStatus, timeout);
    if (failure) return { ok: false, name: check.name, reason: failure };
  }
  return { ok: true };
}

function runCommand(command: string, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile('/bin/sh', ['-c', command], { timeout: timeoutMs, maxBuffer: 64 * 1024 }, (err, _stdout, stderr) => {
      if (!err) return resolve(undefined);
      const e = err as NodeJS.ErrnoException & { code?: number | string; killed?: boolean };
      if (e.killed) return resolve(`command timed out after ${timeoutMs} ms`);
      const tail = String(stderr).trim().split('\n').slice(-1)[0] ?? '';
      resolve(`command exited with ${e.code}${tail ? `: ${tail.slice(0, 200)}` : ''}`);
    });
  });
}

async function probeUrl(url: string, expectStatus: number | undefined, timeoutMs: number): Promise<string | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await res.arrayBuffer().catch(() => undefined);
    const good = expectStatus === undefined ? res.status >= 200 && res.status < 300 : res.status === expectStatus;
    return good ? undefined : `HTTP ${res.status} from ${url}`;
  } catch (err) {
    return `GET ${url} failed: ${(err as Error).message}`;
  }
}
