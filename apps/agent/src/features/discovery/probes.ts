import { execFile } from 'node:child_process';
import { connect } from 'node:net';
import { classifyExitCode, classifyHttpStatus, type HealthState, type ResolvedCheck } from '#contracts/discovery';

export interface ProbeResult {
  status: HealthState;
  output: string;
}

const MAX_OUTPUT = 1024;
const clip = (s: string) => (s.length > MAX_OUTPUT ? `${s.slice(0, MAX_OUTPUT)}…` : s);

/** HTTP: 2xx passing, 429 warning, else critical; no redirects followed (a 3xx is critical, as in Consul). */
export async function httpProbe(check: Extract<ResolvedCheck, { type: 'http' }>): Promise<ProbeResult> {
  try {
    const res = await fetch(check.url, {
      method: check.method,
      headers: check.headers,
      redirect: 'manual',
      signal: AbortSignal.timeout(check.timeout),
    });
    await res.body?.cancel().catch(() => undefined);
    return { status: classifyHttpStatus(res.status), output: `HTTP ${check.method} ${check.url}: ${res.status} ${res.statusText}` };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    const why = e.name === 'TimeoutError' ? `timed out after ${check.timeout} ms` : (e.cause?.code ?? e.cause?.message ?? e.message);
    return { status: 'critical', output: `HTTP ${check.method} ${check.url}: ${why}` };
  }
}

/** TCP: passing when a connection opens within the timeout. */
export function tcpProbe(check: Extract<ResolvedCheck, { type: 'tcp' }>): Promise<ProbeResult> {
  const m = /^\[?([^\]]+)\]?:(\d+)$/.exec(check.tcp)!;
  const host = m[1];
  const port = Number(m[2]);
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (result: ProbeResult) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => done({ status: 'critical', output: `TCP ${check.tcp}: timed out after ${check.timeout} ms` }), check.timeout);
    socket.once('connect', () => done({ status: 'passing', output: `TCP ${check.tcp}: connected` }));
    socket.once('error', (err: NodeJS.ErrnoException) => done({ status: 'critical', output: `TCP ${check.tcp}: ${err.code ?? err.message}` }));
  });
}

/** Command (no shell): exit 0 passing, 1 warning, anything else, a signal or a timeout critical. */
export function commandProbe(check: Extract<ResolvedCheck, { type: 'command' }>): Promise<ProbeResult> {
  return new Promise((resolve) => {
    execFile(
      check.args[0],
      check.args.slice(1),
      { timeout: check.timeout, maxBuffer: 64 * 1024, killSignal: 'SIGKILL', windowsHide: true },
      (err, stdout, stderr) => {
        const text = clip(`${stdout}${stderr}`.trim());
        if (!err) return resolve({ status: 'passing', output: text });
        const e = err as NodeJS.ErrnoException & { killed?: boolean; signal?: string | null; code?: number | string };
        if (e.killed && e.signal) return resolve({ status: 'critical', output: `timed out after ${check.timeout} ms ${text}`.trim() });
        if (typeof e.code === 'number') return resolve({ status: classifyExitCode(e.code), output: text || `exit ${e.code}` });
        resolve({ status: 'critical', output: clip(e.message) });
      },
    );
  });
}

export function runProbe(check: ResolvedCheck): Promise<ProbeResult> {
  switch (check.type) {
    case 'http':
      return httpProbe(check);
    case 'tcp':
      return tcpProbe(check);
    case 'command':
      return commandProbe(check);
    case 'ttl':
      return Promise.resolve({ status: 'critical', output: 'TTL checks are reported, not probed' });
  }
}
