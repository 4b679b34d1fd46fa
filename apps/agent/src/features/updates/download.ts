import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createWriteStream } from 'node:fs';
import { mkdir, stat, truncate } from 'node:fs/promises';
import { dirname } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';

export interface DownloadOptions {
  url: string;
  /** The partial file; kept between attempts so a retry resumes where the last one stopped. */
  dest: string;
  /** Expected total size; more bytes than this abort the download. */
  size?: number;
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface DownloadResult {
  bytes: number;
  /** Bytes that were already on disk and not fetched again. */
  resumedFrom: number;
}

export class DownloadError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = 'DownloadError';
  }
}

/**
 * Fetches `url` into `dest` over HTTP(S), resuming a partial file with a `Range` request. A
 * server that ignores the range (200) restarts the file; 416 with a complete file is success.
 */
export async function downloadWithResume(options: DownloadOptions): Promise<DownloadResult> {
  await mkdir(dirname(options.dest), { recursive: true });
  let have = await stat(options.dest).then((s) => s.size, () => 0);
  if (options.size !== undefined && have > options.size) {
    await truncate(options.dest, 0);
    have = 0;
  }
  if (options.size !== undefined && have === options.size && have > 0) return { bytes: have, resumedFrom: have };

  const res = await get(options.url, have > 0 ? { Range: `bytes=${have}-` } : {}, options, 5);
  if (res.statusCode === 416 && have > 0) {
    res.resume();
    // The server says we already have everything past the end; trust the checksum to decide.
    return { bytes: have, resumedFrom: have };
  }
  let append = false;
  if (res.statusCode === 206 && have > 0) {
    const start = /^bytes (\d+)-/.exec(String(res.headers['content-range'] ?? ''))?.[1];
    append = start !== undefined && Number(start) === have;
  } else if (res.statusCode !== 200) {
    res.resume();
    throw new DownloadError(`GET ${options.url}: HTTP ${res.statusCode}`, (res.statusCode ?? 0) >= 500);
  }
  const resumedFrom = append ? have : 0;
  let written = resumedFrom;
  const limit = new Transform({
    transform(chunk: Buffer, _enc, done) {
      written += chunk.length;
      if (options.size !== undefined && written > options.size) {
        done(new DownloadError(`payload larger than the release's ${options.size} bytes`, false));
        return;
      }
      done(null, chunk);
    },
  });
  try {
    await pipeline(res, limit, createWriteStream(options.dest, { flags: append ? 'a' : 'w' }), { signal: options.signal });
  } catch (err) {
    if (err instanceof DownloadError) {
      await truncate(options.dest, 0).catch(() => undefined);
      throw err;
    }
    throw new DownloadError(`GET ${options.url} interrupted after ${written} bytes: ${(err as Error).message}`, true);
  }
  return { bytes: written, resumedFrom };
}

function get(
  url: string,
  headers: Record<string, string>,
  options: DownloadOptions,
  redirects: number,
): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      reject(new DownloadError(`bad payload URL ${url}`, false));
      return;
    }
    const requester = parsed.protocol === 'https:' ? httpsRequest : parsed.protocol === 'http:' ? httpRequest : undefined;
    if (!requester) {
      reject(new DownloadError(`unsupported payload URL scheme ${parsed.protocol}`, false));
      return;
    }
    const req = requester(parsed, { headers: { 'user-agent': 'fleet-agent', ...headers }, signal: options.signal }, (res) => {
      const location = res.headers.location;
      if ([301, 302, 303, 307, 308].includes(res.statusCode ?? 0) && location) {
        res.resume();
        if (redirects <= 0) {
          reject(new DownloadError(`too many redirects from ${url}`, false));
          return;
        }
        get(new URL(location, parsed).toString(), headers, options, redirects - 1).then(resolve, reject);
        return;
      }
      resolve(res);
    });
    req.setTimeout(options.timeoutMs ?? 60_000, () => req.destroy(new Error('timed out')));
    req.on('error', (err) => reject(new DownloadError(`GET ${url}: ${err.message}`, true)));
    req.end();
  });
}
