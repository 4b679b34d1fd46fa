import type { Simulator } from './simulator.js';

/**
 * What `fleet-agent simulate` prints: the registered count as it changes (every second) until
 * the whole fleet is in, then a one-line status every `statusEveryMs`. Returns a stop function.
 */
export function reportProgress(sim: Simulator, startedAt: number, say: (line: string) => void, statusEveryMs = 10_000): () => void {
  let lastRegistered = -1;
  let allIn = false;
  let last = { at: Date.now(), heartbeats: 0, cpu: 0 };

  const progress = setInterval(() => {
    if (allIn) return;
    const s = sim.stats();
    if (s.registered !== lastRegistered) say(`registered ${s.registered}/${s.nodes}`);
    lastRegistered = s.registered;
    if (s.registered === s.nodes) {
      allIn = true;
      say(`all ${s.nodes} nodes registered in ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);
    }
  }, 1000);

  const status = setInterval(() => {
    const s = sim.stats();
    const now = Date.now();
    const cpu = s.cpuUserMicros + s.cpuSystemMicros;
    const seconds = (now - last.at) / 1000;
    say(
      `status nodes=${s.nodes} registered=${s.registered} heartbeats/s=${((s.heartbeats - last.heartbeats) / seconds).toFixed(0)} ` +
        `hellos=${s.hellos} hello_failures=${s.helloFailures} hello_again=${s.helloAgain} reconnects=${s.reconnects} ` +
        `restarts=${s.restarts} rss=${(s.rssBytes / 2 ** 20).toFixed(0)}MiB cpu=${((cpu - last.cpu) / 1e4 / seconds).toFixed(0)}%`,
    );
    last = { at: now, heartbeats: s.heartbeats, cpu };
  }, statusEveryMs);

  return () => {
    clearInterval(progress);
    clearInterval(status);
  };
}
