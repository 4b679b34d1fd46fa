import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { payloadSchema } from '#contracts/updater';
import {
  generateSigningKeyPair,
  parsePrivateKey,
  parsePublicKey,
  sha256File,
  signDigest,
  signPayloadFile,
  verifyDigestSignature,
} from './signing.js';

const dirs: string[] = [];
afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

describe('release signing', () => {
  it('round-trips: what signPayloadFile produces, verifyDigestSignature accepts with the public key', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sign-'));
    dirs.push(dir);
    const file = join(dir, 'image.raw');
    const bytes = Buffer.from('an OS image'.repeat(1000));
    await writeFile(file, bytes);
    const keys = generateSigningKeyPair();
    const signed = await signPayloadFile(file, parsePrivateKey(keys.privateKeyPem));
    expect(signed.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(signed.size).toBe(bytes.length);
    expect(await sha256File(file)).toBe(signed.sha256);
    // The updater's release contract accepts the result as is.
    expect(payloadSchema.safeParse({ url: 'https://x/img', ...signed }).success).toBe(true);
    for (const pub of [keys.publicKeyPem, keys.publicKeyBase64]) {
      expect(verifyDigestSignature(signed.sha256, signed.signature, [parsePublicKey(pub)])).toBe(true);
    }
  });

  it('rejects another digest, another key and a mangled signature', () => {
    const keys = generateSigningKeyPair();
    const other = generateSigningKeyPair();
    const digest = 'a'.repeat(64);
    const sig = signDigest(digest, parsePrivateKey(keys.privateKeyPem));
    const pub = parsePublicKey(keys.publicKeyBase64);
    expect(verifyDigestSignature('b'.repeat(64), sig, [pub])).toBe(false);
    expect(verifyDigestSignature(digest, sig, [parsePublicKey(other.publicKeyPem)])).toBe(false);
    expect(verifyDigestSignature(digest, sig, [parsePublicKey(other.publicKeyPem), pub])).toBe(true);
    const mangled = Buffer.from(sig, 'base64');
    mangled[3] ^= 1;
    expect(verifyDigestSignature(digest, mangled.toString('base64'), [pub])).toBe(false);
    expect(verifyDigestSignature(digest, 'c2hvcnQ=', [pub])).toBe(false);
  });

  it('refuses keys that are not ed25519', () => {
    expect(() => parsePublicKey(Buffer.alloc(31).toString('base64'))).toThrow();
  });
});
