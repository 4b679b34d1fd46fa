/**
 * Collects single-key lookups arriving within a few milliseconds into one bulk call, so 10,000
 * agents fetching their bundle after a publish cost tens of queries, not 10,000.
 */
export class Batcher<K, V> {
  private pending = new Map<K, Array<{ resolve: (v: V | undefined) => void; reject: (e: unknown) => void }>>();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly load: (keys: K[]) => Promise<Map<K, V>>,
    private readonly windowMs = 3,
    private readonly max = 1000,
  ) {}

  get(key: K): Promise<V | undefined> {
    return new Promise((resolve, reject) => {
      const waiters = this.pending.get(key);
      if (waiters) waiters.push({ resolve, reject });
      else this.pending.set(key, [{ resolve, reject }]);
      if (this.pending.size >= this.max) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.windowMs);
    });
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending;
    this.pending = new Map();
    this.load([...batch.keys()]).then(
      (found) => {
        for (const [k, waiters] of batch) for (const w of waiters) w.resolve(found.get(k));
      },
      (err) => {
        for (const waiters of batch.values()) for (const w of waiters) w.reject(err);
      },
    );
  }
}
