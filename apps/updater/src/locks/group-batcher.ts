interface Waiting<I, R> {
  item: I;
  resolve: (r: R) => void;
  reject: (e: unknown) => void;
}

/**
 * Group commit per key: the first request of a key is sent at once; requests that arrive while
 * it is in flight queue up and go together in the next call (up to `max`). No added latency when
 * idle, one database round trip and one commit for many requests under load.
 */
export class GroupBatcher<I, R> {
  private readonly queues = new Map<string, Array<Waiting<I, R>>>();
  private readonly busy = new Set<string>();

  constructor(
    private readonly flush: (key: string, items: I[]) => Promise<R[]>,
    private readonly max = 500,
  ) {}

  run(key: string, item: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const queue = this.queues.get(key) ?? [];
      queue.push({ item, resolve, reject });
      this.queues.set(key, queue);
      if (!this.busy.has(key)) void this.drain(key);
    });
  }

  private async drain(key: string): Promise<void> {
    this.busy.add(key);
    try {
      for (;;) {
        const queue = this.queues.get(key);
        if (!queue || queue.length === 0) break;
        const batch = queue.splice(0, this.max);
        try {
          const results = await this.flush(
            key,
            batch.map((w) => w.item),
          );
          batch.forEach((w, i) => w.resolve(results[i]));
        } catch (err) {
          for (const w of batch) w.reject(err);
        }
      }
    } finally {
      this.queues.delete(key);
      this.busy.delete(key);
    }
  }
}
