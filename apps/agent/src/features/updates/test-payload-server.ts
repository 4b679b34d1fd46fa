import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface PayloadServer {
  url(path: string): string;
  /** Bytes served per path; replace to tamper. */
  files: Map<string, Buffer>;
  /** Requests seen (path and Range header), for assertions. */
  requests: Array<{ path: string; range: string | undefined }>;
  /** Cut the next response for this path after this many bytes. */
  cutAfter: Map<string, number>;
  /** Answer every request with the whole file (200), ignoring Range. */
  ignoreRange: boolean;
  close(): Promise<void>;
}

/** A real HTTP server with Range support, for download specs and e2e tests. */
export async function startPayloadServer(): Promise<PayloadServer> {
  const files = new Map<string, Buffer>();
  const requests: PayloadServer['requests'] = [];
  const cutAfter = new Map<string, number>();
  const state = { ignoreRange: false };
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const range = req.headers.range;
    requests.push({ path, range });
    const body = files.get(path);
    if (!body) {
      res.writeHead(404).end();
      return;
    }
    let start = 0;
    const m = /^bytes=(\d+)-$/.exec(range ?? '');
    if (m && !state.ignoreRange) {
      start = Number(m[1]);
      if (start >= body.length) {
        res.writeHead(416, { 'content-range': `bytes */${body.length}` }).end();
        return;
      }
      res.writeHead(206, { 'content-range': `bytes ${start}-${body.length - 1}/${body.length}`, 'content-length': body.length - start });
    } else {
      res.writeHead(200, { 'content-length': body.length });
    }
    const cut = cutAfter.get(path);
    if (cut !== undefined) {
      cutAfter.delete(path);
      // Give the client time to read and store the partial body before the connection drops: a
      // reset right away can reach it before the bytes do, and then there is nothing to resume.
      res.write(body.subarray(start, start + cut), () => setTimeout(() => res.destroy(), 200));
      return;
    }
    res.end(body.subarray(start));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    files,
    requests,
    cutAfter,
    get ignoreRange() {
      return state.ignoreRange;
    },
    set ignoreRange(v: boolean) {
      state.ignoreRange = v;
    },
    close: () => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}
