/**
 * Runs `tick` every `intervalMs` until it returns true (done), the signal aborts, or the user
 * presses Ctrl-C (SIGINT), whichever comes first; for `rollouts watch`, `services watch` and the
 * like. A failing tick stops the loop with its error. Resolves to why it stopped.
 */
export async function watchLoop(options: {
  intervalMs: number;
  tick: () => Promise<boolean | void>;
  signal?: AbortSignal;
}): Promise<'done' | 'interrupted'> {
  const stop = new AbortController();
  const onSigint = () => stop.abort();
  process.once('SIGINT', onSigint);
  options.signal?.addEventListener('abort', onSigint, { once: true });
  try {
    for (;;) {
      if (stop.signal.aborted) return 'interrupted';
      if (await options.tick()) return 'done';
      if (stop.signal.aborted) return 'interrupted';
      await new Promise<void>((resolve) => {
        // One listener per wait, removed when the wait ends: a long watch must not pile them up.
        const onAbort = () => {
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          stop.signal.removeEventListener('abort', onAbort);
          resolve();
        }, options.intervalMs);
        stop.signal.addEventListener('abort', onAbort, { once: true });
      });
    }
  } finally {
    process.removeListener('SIGINT', onSigint);
    options.signal?.removeEventListener('abort', onSigint);
  }
}
