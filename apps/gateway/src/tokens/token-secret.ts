import { createHash, randomBytes } from 'node:crypto';

/**
 * Token secrets are `fct_` + 32 random bytes in base64url (256 bits). Only their sha256 is
 * stored. A fast hash is the right tool here: slow hashes (bcrypt, argon2) exist to make guessing
 * low-entropy passwords expensive, but nobody can guess or brute-force a 256-bit random secret,
 * and a deterministic hash lets a request find its token by an indexed equality lookup instead
 * of trying every stored salt. A leaked database therefore yields no usable token.
 */
export const TOKEN_PREFIX = 'fct_';
const DISPLAY_CHARS = 12;

export function generateSecret(): string {
  return TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

export function hashSecret(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}

/** The part of a secret that may be shown later (`fct_AbCdEfGh`), so people can tell tokens apart. */
export function displayPrefix(secret: string): string {
  return secret.slice(0, DISPLAY_CHARS);
}
