export interface ScheduledTask {
  cancel(): void;
  /** Changes a repeating task's period; takes effect from the next run. */
  setInterval(intervalMs: number): void;
}

interface Entry {
  due: number;
  intervalMs: number;
  run: () => void;
  cancelled: boolean;
  seq: number;
}

const GOLDEN = 0.6180339887498949;

/**
 * One timer for any number of periodic tasks: a binary min-heap of due times behind a single
 * `setTimeout`. The simulator runs 10,000 virtual agents on it instead of 10,000 intervals.
 *
 * New periodic tasks get a phase from a low-discrepancy (golden-ratio) sequence, so however many
 * tasks are added, their runs stay spread evenly across the period rather than bunching up.
 */
export class Scheduler {
  private heap: Entry[] = [];
  private timer: NodeJS.Timeout | undefined;
  private armedFor = Infinity;
  private seq = 0;
  private phaseIndex = 0;
  private stopped = false;
  private ticking = false;

  constructor(
    private readonly options: {
      now?: () => number;
      /** Tasks due within this window of each other run in one timer callback. */
      resolutionMs?: number;
      onError?: (err: unknown) => void;
    } = {},
  ) {}

  get size(): number {
    return this.heap.length;
  }

  private now(): number {
    return this.options.now ? this.options.now() : Date.now();
  }

  /** Next spread phase in [0, intervalMs). */
  nextPhase(intervalMs: number): number {
    const fraction = (this.phaseIndex++ * GOLDEN) % 1;
    return Math.floor(fraction * intervalMs);
  }

  /** Runs `run` every `intervalMs`, first after `firstDelayMs` (default: the next spread phase). */
  every(intervalMs: number, run: () => void, firstDelayMs?: number): ScheduledTask {
    const entry: Entry = {
      due: this.now() + (firstDelayMs ?? this.nextPhase(intervalMs)),
      intervalMs,
      run,
      cancelled: false,
      seq: this.seq++,
    };
    this.push(entry);
    return this.handle(entry);
  }

  /** Runs `run` once after `delayMs`. */
  after(delayMs: number, run: () => void): ScheduledTask {
    const entry: Entry = { due: this.now() + delayMs, intervalMs: 0, run, cancelled: false, seq: this.seq++ };
    this.push(entry);
    return this.handle(entry);
  }

  /** Resolves after `delayMs`, or early (with `false`) when the returned `cancel` is called. */
  sleep(delayMs: number): { done: Promise<boolean>; cancel(): void } {
    let resolve!: (v: boolean) => void;
    const done = new Promise<boolean>((r) => (resolve = r));
    const task = this.after(delayMs, () => resolve(true));
    return {
      done,
      cancel: () => {
        task.cancel();
        resolve(false);
      },
    };
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.heap = [];
  }

  private handle(entry: Entry): ScheduledTask {
    return {
      cancel: () => {
        entry.cancelled = true;
      },
      setInterval: (ms: number) => {
        entry.intervalMs = ms;
      },
    };
  }

  private push(entry: Entry): void {
    if (this.stopped) return;
    const heap = this.heap;
    heap.push(entry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i], heap[parent])) break;
      [heap[i], heap[parent]] = [heap[parent], heap[i]];
      i = parent;
    }
    if (!this.ticking && entry.due < this.armedFor) this.arm();
  }

  private pop(): Entry | undefined {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop();
    if (heap.length > 0 && last) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && before(heap[l], heap[m])) m = l;
        if (r < heap.length && before(heap[r], heap[m])) m = r;
        if (m === i) break;
        [heap[i], heap[m]] = [heap[m], heap[i]];
        i = m;
      }
    }
    return top;
  }

  private arm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.armedFor = Infinity;
    if (this.stopped || this.heap.length === 0) return;
    const due = this.heap[0].due;
    this.armedFor = due;
    this.timer = setTimeout(() => this.tick(), Math.max(0, due - this.now()));
  }

  private tick(): void {
    this.timer = undefined;
    this.armedFor = Infinity;
    const now = this.now();
    const horizon = now + (this.options.resolutionMs ?? 5);
    const due: Entry[] = [];
    this.ticking = true;
    while (this.heap.length > 0 && this.heap[0].due <= horizon) {
      const entry = this.pop()!;
      if (!entry.cancelled) due.push(entry);
    }
    for (const entry of due) {
      if (entry.intervalMs > 0) {
        // Keep the phase: the next run is whole periods after this one was due, not "now + period",
        // and runs missed while the event loop was stalled are skipped rather than bunched up.
        const periods = Math.max(1, Math.ceil((now - entry.due) / entry.intervalMs));
        entry.due += periods * entry.intervalMs;
        this.push(entry);
      }
    }
    this.ticking = false;
    for (const entry of due) {
      if (entry.cancelled) continue;
      try {
        entry.run();
      } catch (err) {
        this.options.onError?.(err);
      }
    }
    this.arm();
  }
}

function before(a: Entry, b: Entry): boolean {
  return a.due < b.due || (a.due === b.due && a.seq < b.seq);
}
