/**
 * Blocking-query index rule, as Consul's: no index (or 0) answers at once; an index that moved
 * answers at once; an index that went backwards (the catalog was reset) answers at once too,
 * so the client starts over. Only an equal index waits.
 */
export function indexMoved(current: number, requested: number | undefined): boolean {
  if (requested === undefined || requested === 0) return true;
  return current !== requested;
}

export type WaitOutcome = 'changed' | 'timeout' | 'closed';

interface Waiter {
  keys: string[];
  ready: () => boolean;
  done: (outcome: WaitOutcome) => void;
}

/** Key every waiter on the list of services uses; woken by a change to any service. */
export const ANY_SERVICE = '*';

/**
 * Parked blocking queries of this replica. Nothing polls: a change (local commit or another
 * replica's event) calls `notify(service)`, which re-checks only the waiters on that service.
 */
export class Waiters {
  private readonly byKey = new Map<string, Set<Waiter>>();
  private count = 0;
  private closed = false;

  get size(): number {
    return this.count;
  }

  wait(keys: string[], ready: () => boolean, waitMs: number): Promise<WaitOutcome> {
    if (this.closed) return Promise.resolve('closed');
    if (ready()) return Promise.resolve('changed');
    return new Promise((resolve) => {
      const waiter: Waiter = {
        keys,
        ready,
        done: (outcome) => {
          clearTimeout(timer);
          for (const k of keys) {
            const set = this.byKey.get(k);
            set?.delete(waiter);
            if (set?.size === 0) this.byKey.delete(k);
          }
          this.count--;
          resolve(outcome);
        },
      };
      const timer = setTimeout(() => waiter.done('timeout'), waitMs);
      timer.unref?.();
      for (const k of keys) {
        let set = this.byKey.get(k);
        if (!set) this.byKey.set(k, (set = new Set()));
        set.add(waiter);
      }
      this.count++;
    });
  }

  /** A service changed: wake its waiters and the list waiters whose condition now holds. */
  notify(service: string): void {
    for (const key of [service, ANY_SERVICE]) {
      const set = this.byKey.get(key);
      if (!set) continue;
      for (const w of [...set]) if (w.ready()) w.done('changed');
    }
  }

  /** Shutdown: answer every parked query now, so draining does not wait minutes. */
  close(): void {
    this.closed = true;
    for (const set of [...this.byKey.values()]) for (const w of [...set]) w.done('closed');
  }
}
