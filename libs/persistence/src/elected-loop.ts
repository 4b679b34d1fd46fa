import { LeaderElection, type LeaderElectionOptions } from './leader.js';

export interface ElectedLoopOptions extends Pick<LeaderElectionOptions, 'url' | 'name' | 'retryMs'> {
  /** Pause between the end of one pass and the start of the next. */
  periodMs: number | (() => number);
  /**
   * Shortest pause after a pass before a woken one starts (default 0), so that a burst of wakes
   * (a report batch every few milliseconds) costs a pass every `minGapMs`, not one per wake.
   */
  minGapMs?: number;
  /** One pass of the work. Passes never overlap; a failing pass does not stop the loop. */
  pass: () => Promise<unknown>;
  onError: (err: Error) => void;
  /** Told when this replica starts or stops leading (metrics, logs). */
  onLeadershipChange?: (leading: boolean) => void;
}

/**
 * Periodic work that must run in exactly one replica: a PostgreSQL-elected leader runs `pass`
 * again and again, `periodMs` apart, never two at once. When it loses leadership no further
 * pass starts; `stop()` also waits for the pass in progress.
 */
export class ElectedLoop {
  private readonly election: LeaderElection;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private generation = 0;
  private leading = false;
  /** A wake that arrived during a pass: the next pass starts this soon after it, not a period later. */
  private wokenDuringPass?: number;
  /** When the scheduled pass is due, and when the last one ended (epoch ms). */
  private dueAt = Infinity;
  private lastEnd = 0;

  constructor(private readonly options: ElectedLoopOptions) {
    this.election = new LeaderElection({
      url: options.url,
      name: options.name,
      retryMs: options.retryMs,
      onElected: () => this.lead(),
      onDemoted: () => this.follow(),
    });
  }

  get isLeader(): boolean {
    return this.election.isLeader;
  }

  start(): void {
    this.election.start();
  }

  /** Leaves leadership (another replica takes over) once the pass in progress has finished. */
  async stop(): Promise<void> {
    await this.election.stop();
    this.follow();
    await this.running;
  }

  /**
   * Runs the next pass after `delayMs` instead of a full period (when leading), but not sooner
   * than `minGapMs` after the last pass ended, and never later than it was due anyway. A wake
   * during a pass is kept: the work it announces may have arrived after the pass read its input,
   * so the next pass follows `max(delayMs, minGapMs)` after this one ends.
   */
  wake(delayMs = 0): void {
    if (!this.leading) return;
    if (this.running) {
      this.wokenDuringPass = Math.min(this.wokenDuringPass ?? delayMs, delayMs);
      return;
    }
    const now = Date.now();
    const at = Math.max(now + delayMs, this.lastEnd + (this.options.minGapMs ?? 0));
    if (at < this.dueAt) this.schedule(this.generation, at - now);
  }

  private lead(): void {
    this.leading = true;
    this.options.onLeadershipChange?.(true);
    this.schedule(++this.generation, 0);
  }

  private follow(): void {
    if (!this.leading) return;
    this.leading = false;
    this.wokenDuringPass = undefined;
    this.generation++;
    clearTimeout(this.timer);
    this.dueAt = Infinity;
    this.options.onLeadershipChange?.(false);
  }

  private schedule(generation: number, delayMs: number): void {
    clearTimeout(this.timer);
    this.dueAt = Date.now() + delayMs;
    this.timer = setTimeout(() => this.run(generation), delayMs);
    this.timer.unref();
  }

  private run(generation: number): void {
    if (generation !== this.generation || this.running) return;
    this.dueAt = Infinity;
    this.running = Promise.resolve()
      .then(() => this.options.pass())
      .then(
        () => undefined,
        (err: Error) => this.options.onError(err),
      )
      .finally(() => {
        this.running = undefined;
        this.lastEnd = Date.now();
        const woken = this.wokenDuringPass;
        this.wokenDuringPass = undefined;
        if (!this.leading) return;
        if (generation !== this.generation) {
          // Leadership was lost and won again during this pass; the new term's first pass,
          // which could not start while this one ran, starts now.
          this.schedule(this.generation, 0);
          return;
        }
        const period = typeof this.options.periodMs === 'function' ? this.options.periodMs() : this.options.periodMs;
        this.schedule(generation, woken === undefined ? period : Math.max(woken, this.options.minGapMs ?? 0));
      });
  }
}
