import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { createReadStream } from 'node:fs';

/**
 * Release signatures: ed25519 over the payload's SHA-256 digest (the 32 raw bytes), encoded as
 * base64. Signing the digest rather than the payload lets anyone verify a release's metadata
 * without the image, and lets the agent verify while it streams. `fleetctl keys gen` /
 * `fleetctl releases sign` produce exactly what `verifyDigestSignature` accepts.
 */

/** ed25519 SPKI DER prefix; the raw 32-byte key follows it. */
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export interface KeyPairText {
  /** PKCS#8 PEM */
  privateKeyPem: string;
  /** SPKI PEM */
  publicKeyPem: string;
  /** The raw 32-byte public key, base64: what fits in one config line. */
  publicKeyBase64: string;
}

export function generateSigningKeyPair(): KeyPairText {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    publicKeyBase64: rawPublicKey(publicKey).toString('base64'),
  };
}

function rawPublicKey(key: KeyObject): Buffer {
  const der = key.export({ type: 'spki', format: 'der' });
  return der.subarray(der.length - 32);
}

/** Accepts a PEM public key, base64 of the raw 32 bytes, or base64 of the SPKI DER. */
export function parsePublicKey(text: string): KeyObject {
  const trimmed = text.trim();
  if (trimmed.startsWith('-----BEGIN')) {
    const key = createPublicKey(trimmed);
    if (key.asymmetricKeyType !== 'ed25519') throw new Error('public key is not ed25519');
    return key;
  }
  const bytes = Buffer.from(trimmed, 'base64');
  if (bytes.length === 32) {
    return createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, bytes]), format: 'der', type: 'spki' });
  }
  const key = createPublicKey({ key: bytes, format: 'der', type: 'spki' });
  if (key.asymmetricKeyType !== 'ed25519') throw new Error('public key is not ed25519');
  return key;
}

/** Accepts a PKCS#8 PEM private key or base64 of its DER. */
export function parsePrivateKey(text: string): KeyObject {
  const trimmed = text.trim();
  const key = trimmed.startsWith('-----BEGIN')
    ? createPrivateKey(trimmed)
    : createPrivateKey({ key: Buffer.from(trimmed, 'base64'), format: 'der', type: 'pkcs8' });
  if (key.asymmetricKeyType !== 'ed25519') throw new Error('private key is not ed25519');
  return key;
}

export function signDigest(sha256Hex: string, privateKey: KeyObject): string {
  return sign(null, digestBytes(sha256Hex), privateKey).toString('base64');
}

/** True when `signature` is a valid signature of the digest by any of `keys`. */
export function verifyDigestSignature(sha256Hex: string, signatureBase64: string, keys: KeyObject[]): boolean {
  let sig: Buffer;
  try {
    sig = Buffer.from(signatureBase64, 'base64');
  } catch {
    return false;
  }
  if (sig.length !== 64) return false;
  const digest = digestBytes(sha256Hex);
  return keys.some((key) => {
    try {
      return verify(null, digest, key, sig);
    } catch {
      return false;
    }
  });
}

function digestBytes(sha256Hex: string): Buffer {
  if (!/^[0-9a-f]{64}$/i.test(sha256Hex)) throw new Error('sha256 must be 64 hex characters');
  return Buffer.from(sha256Hex, 'hex');
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export interface SignedPayload {
  sha256: string;
  size: number;
  signature: string;
}

export async function signPayloadFile(path: string, privateKey: KeyObject): Promise<SignedPayload> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(path)) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  const sha256 = hash.digest('hex');
  return { sha256, size, signature: signDigest(sha256, privateKey) };
}
