import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../main.js';
import { parsePublicKey, sha256File, verifyDigestSignature } from '../../../agent/src/features/updates/signing.js';

const dirs: string[] = [];
afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

async function run(argv: string[]) {
  let out = '';
  let err = '';
  const code = await main(argv, { stdout: { write: (c: string) => (out += c) }, stderr: { write: (c: string) => (err += c) }, env: {} });
  return { code, out, err };
}

describe('fleetctl keys gen / releases sign', () => {
  it('round-trips: the signature verifies with the generated public key, as the agent checks it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'keys-'));
    dirs.push(dir);
    const prefix = join(dir, 'release');
    const gen = await run(['keys', 'gen', '--out', prefix]);
    expect(gen.code).toBe(0);
    const publicLine = gen.out.trim();
    expect(Buffer.from(publicLine, 'base64')).toHaveLength(32);
    expect((await stat(`${prefix}.key`)).mode & 0o777).toBe(0o600);
    expect(await readFile(`${prefix}.pub`, 'utf8')).toContain('BEGIN PUBLIC KEY');

    const payload = join(dir, 'image.raw');
    await writeFile(payload, randomBytes(10_000));
    const signed = await run(['releases', 'sign', '--key', `${prefix}.key`, '--payload', payload, '-o', 'json']);
    expect(signed.code).toBe(0);
    const { sha256, size, signature } = JSON.parse(signed.out) as { sha256: string; size: number; signature: string };
    expect(sha256).toBe(await sha256File(payload));
    expect(size).toBe(10_000);
    for (const key of [publicLine, await readFile(`${prefix}.pub`, 'utf8')]) {
      expect(verifyDigestSignature(sha256, signature, [parsePublicKey(key)])).toBe(true);
    }
    // Another payload's digest does not verify.
    await writeFile(payload, randomBytes(10));
    expect(verifyDigestSignature(await sha256File(payload), signature, [parsePublicKey(publicLine)])).toBe(false);
  });

  it('refuses to overwrite keys without --force, and reports a missing key file as a usage error', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'keys-'));
    dirs.push(dir);
    const prefix = join(dir, 'k');
    expect((await run(['keys', 'gen', '--out', prefix])).code).toBe(0);
    const again = await run(['keys', 'gen', '--out', prefix]);
    expect(again.code).toBe(2);
    expect(again.err).toContain('--force');
    expect((await run(['keys', 'gen', '--out', prefix, '--force'])).code).toBe(0);
    const missing = await run(['releases', 'sign', '--key', join(dir, 'nope.key'), '--payload', join(dir, 'x')]);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('--key');
  });
});
