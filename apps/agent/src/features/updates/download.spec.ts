import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DownloadError, downloadWithResume } from './download.js';
import { startPayloadServer, type PayloadServer } from './test-payload-server.js';

let server: PayloadServer;
let dir: string;
const image = randomBytes(256 * 1024);

beforeAll(async () => {
  server = await startPayloadServer();
  server.files.set('/image', image);
  dir = await mkdtemp(join(tmpdir(), 'dl-'));
});
afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

describe('downloadWithResume', () => {
  it('keeps the partial file when the connection drops and resumes it with a Range request', async () => {
    const dest = join(dir, 'resume.part');
    server.cutAfter.set('/image', 100_000);
    await expect(downloadWithResume({ url: server.url('/image'), dest, size: image.length })).rejects.toMatchObject({ retryable: true });
    const partial = (await stat(dest)).size;
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(image.length);

    const seen = server.requests.length;
    const result = await downloadWithResume({ url: server.url('/image'), dest, size: image.length });
    expect(result.resumedFrom).toBe(partial);
    expect(server.requests[seen].range).toBe(`bytes=${partial}-`);
    expect(Buffer.compare(await readFile(dest), image)).toBe(0);
  });

  it('starts over when the server ignores the range', async () => {
    const dest = join(dir, 'norange.part');
    server.cutAfter.set('/image', 50_000);
    await expect(downloadWithResume({ url: server.url('/image'), dest, size: image.length })).rejects.toBeInstanceOf(DownloadError);
    server.ignoreRange = true;
    try {
      const result = await downloadWithResume({ url: server.url('/image'), dest, size: image.length });
      expect(result.resumedFrom).toBe(0);
      expect(Buffer.compare(await readFile(dest), image)).toBe(0);
    } finally {
      server.ignoreRange = false;
    }
  });

  it('treats a complete partial file as done without downloading again', async () => {
    const dest = join(dir, 'complete.part');
    await downloadWithResume({ url: server.url('/image'), dest, size: image.length });
    const seen = server.requests.length;
    const result = await downloadWithResume({ url: server.url('/image'), dest, size: image.length });
    expect(result.resumedFrom).toBe(image.length);
    expect(server.requests.length).toBe(seen);
  });

  it('aborts a payload larger than the release says, and 404 is not retryable', async () => {
    await expect(downloadWithResume({ url: server.url('/image'), dest: join(dir, 'big.part'), size: 1000 })).rejects.toMatchObject({
      retryable: false,
    });
    expect((await stat(join(dir, 'big.part'))).size).toBe(0);
    await expect(downloadWithResume({ url: server.url('/missing'), dest: join(dir, 'missing.part') })).rejects.toMatchObject({
      retryable: false,
    });
  });
});
