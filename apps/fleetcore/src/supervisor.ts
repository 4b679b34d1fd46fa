import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/**
 * Runs one platform process as a child, restarts it with backoff if it dies, and shows its JSON
 * log lines readably when the launcher's output is a terminal.
 */
export class Supervised {
  private child?: ChildProcess;
  private stopping = false;
  private restarts = 0;
  private startedAt = 0;
  private exited?: Promise<void>;

  constructor(
    readonly name: string,
    private readonly command: string,
    private readonly args: string[],
    private readonly env: NodeJS.ProcessEnv,
    private readonly pretty: boolean,
  ) {}

  start(): void {
    this.startedAt = Date.now();
    const child = spawn(this.command, this.args, { env: this.env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    for (const stream of [child.stdout, child.stderr]) {
      if (!stream) continue;
      const out = stream === child.stderr ? process.stderr : process.stdout;
      createInterface({ input: stream }).on('line', (line) => out.write(this.format(line) + '\n'));
    }
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        resolve();
        if (this.stopping) return;
        // A process that ran for a while earns a fresh backoff.
        if (Date.now() - this.startedAt > 60_000) this.restarts = 0;
        const delay = Math.min(30_000, 1000 * 2 ** this.restarts++);
        process.stderr.write(
          `[fleetcore] ${this.name} exited (${signal ?? `code ${code}`}); restarting in ${delay / 1000} s\n`,
        );
        setTimeout(() => !this.stopping && this.start(), delay).unref();
      });
    });
  }

  async stop(timeoutMs = 10_000): Promise<void> {
    this.stopping = true;
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }

  private format(line: string): string {
    if (!this.pretty || !line.startsWith('{')) return `${this.name.padEnd(9)} | ${line}`;
    try {
      const entry = JSON.parse(line) as Record<string, unknown>;
      const { time, level, msg, service, context, ...rest } = entry;
      void service;
      const extras = Object.entries(rest)
        .filter(([k]) => k !== 'stack' && k !== 'span_id')
        .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
        .join(' ');
      const clock = typeof time === 'string' ? time.slice(11, 19) : '';
      const lvl = level === 'info' ? '' : ` ${String(level).toUpperCase()}`;
      return `${this.name.padEnd(9)} | ${clock}${lvl} ${context ? `[${context}] ` : ''}${msg}${extras ? `  ${extras}` : ''}`;
    } catch {
      return `${this.name.padEnd(9)} | ${line}`;
    }
  }
}
