import type { Heartbeat } from '#contracts/inventory';
import { type AddResult, type HeartbeatBatch, HeartbeatBuffer } from './heartbeat-buffer.js';

export interface PipelineOptions {
  /** Flush at least this often. */
  flushMs: number;
  /** Flush early once this many distinct nodes are buffered. */
  flushAtNodes: number;
  /** Hard cap on distinct buffered nodes. */
  maxNodes: number;
  /**
   * Writes one batch as one statement; throws if nothing was written. May report what really
   * landed (rows, and heartbeats they account for); by default the whole batch counts.
   */
  write: (batch: HeartbeatBatch) => Promise<WriteResult | void>;
  onFlushError?: (err: Error, batchSize: number) => void;
  /** Called after every flush attempt (metrics). */
  afterFlush?: () => void;
  now?: () => number;
}

export interface WriteResult {
  rows: number;
  heartbeats: number;
}

export interface PipelineStats {
  received: number;
  coalesced: number;
  dropped: number;
  flushes: number;
  failedFlushes: number;
  /** Rows written: one per node per successful flush. */
  rowsFlushed: number;
  /** Heartbeats accounted for by successful flushes (coalesced ones included). */
  heartbeatsFlushed: number;
}

/**
 * Heartbeat ingestion: buffer, coalesce, and flush on a timer or when the buffer fills. Flushes
 * never overlap (a request during a flush runs right after it); a failed flush merges its batch
 * back under any newer data and is retried with backoff, so a database outage loses nothing but
 * superseded heartbeats.
 */
export class HeartbeatPipeline {
  readonly stats: PipelineStats = {
    received: 0,
    coalesced: 0,
    dropped: 0,
    flushes: 0,
    failedFlushes: 0,
    rowsFlushed: 0,
    heartbeatsFlushed: 0,
  };
  private readonly buffer: HeartbeatBuffer;
  private readonly now: () => number;
  private running: Promise<void> | null = null;
  private again = false;
  private timer?: NodeJS.Timeout;
  private stopped = true;
  private consecutiveFailures = 0;

  constructor(private readonly options: PipelineOptions) {
    this.buffer = new HeartbeatBuffer({ maxNodes: options.maxNodes });
    this.now = options.now ?? Date.now;
  }

  get buffered(): number {
    return this.buffer.size;
  }

  add(nodeId: string, heartbeat: Heartbeat): AddResult {
    this.stats.received++;
    const result = this.buffer.add(nodeId, heartbeat, this.now());
    if (result === 'coalesced') this.stats.coalesced++;
    else if (result === 'dropped') this.stats.dropped++;
    else if (this.buffer.size >= this.options.flushAtNodes && !this.stopped) void this.flush();
    return result;
  }

  start(): void {
    this.stopped = false;
    this.schedule(this.options.flushMs);
  }

  /** Stops the timer and writes what is buffered (one attempt). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.flush();
  }

  /**
   * Flushes now, or right after the flush in progress. Resolves when the buffer as it was at
   * the call has been written (or the attempt failed and the batch was merged back).
   */
  flush(): Promise<void> {
    if (this.running) {
      // The running loop picks the buffer up again before it settles.
      this.again = true;
      return this.running;
    }
    this.running = this.runFlushes().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async runFlushes(): Promise<void> {
    do {
      this.again = false;
      await this.flushOnce();
    } while (this.again && this.buffer.size > 0 && this.consecutiveFailures === 0);
  }

  private async flushOnce(): Promise<void> {
    if (this.buffer.size === 0) return;
    const batch = this.buffer.take(this.now());
    try {
      const written = await this.options.write(batch);
      this.consecutiveFailures = 0;
      this.stats.flushes++;
      if (written) {
        this.stats.rowsFlushed += written.rows;
        this.stats.heartbeatsFlushed += written.heartbeats;
      } else {
        this.stats.rowsFlushed += batch.size;
        for (const count of batch.counts) this.stats.heartbeatsFlushed += count;
      }
    } catch (err) {
      this.consecutiveFailures++;
      this.stats.failedFlushes++;
      this.buffer.restore(batch);
      this.options.onFlushError?.(err as Error, batch.size);
    }
    this.options.afterFlush?.();
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      void this.flush().finally(() => this.schedule(this.nextDelay()));
    }, delayMs);
    this.timer.unref();
  }

  /** Normal cadence, or exponential backoff (capped at 5 s) while flushes keep failing. */
  private nextDelay(): number {
    if (this.consecutiveFailures === 0) return this.options.flushMs;
    return Math.min(this.options.flushMs * 2 ** this.consecutiveFailures, Math.max(5000, this.options.flushMs));
  }
}
