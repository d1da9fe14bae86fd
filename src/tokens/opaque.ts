import { randomBytes } from 'node:crypto';

/** 256-bit opaque token (refresh tokens, generated client secrets), base64url. */
export function opaqueToken(): string {
  return randomBytes(32).toString('base64url');
}

const CODE_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/**
 * 32 characters A–Z0–9 from a CSPRNG, the shape the platforms' examples use
 * (e.g. C8AB554D6F804B8EB6246D44D3DE4B46); about 165 bits. Rejection sampling keeps it uniform.
 */
export function authorizationCode(): string {
  let out = '';
  while (out.length < 32) {
    for (const byte of randomBytes(48)) {
      // 252 = 7 * 36: bytes at or above it would bias the first letters.
      if (byte < 252 && out.length < 32) out += CODE_ALPHABET[byte % 36];
    }
  }
  return out;
}
