/**
 * The one base64url decoder Tessera uses on what others send (RFC 7515 §2, RFC 4648 §5):
 * canonical spellings only. `Buffer.from(text, 'base64url')` skips characters outside the
 * alphabet, accepts padding and `+`/`/`, and ignores the unused low bits of the last
 * character, so several strings decode to the same bytes — enough to slip a used token past
 * a replay check keyed on its text. Imports nothing of Tessera's.
 */

/**
 * The bytes `text` encodes, or undefined unless `text` is their one canonical spelling: no
 * padding, no whitespace, no `+`/`/`, the last character's unused bits zero (RFC 4648 §3.5).
 * Re-encoding is canonical, so the text was exactly when it round-trips; every other
 * spelling (junk Buffer skipped, padding, the other alphabet, a dangling sixth bit) does not.
 */
export function decodeBase64url(text: string): Buffer | undefined {
  const bytes = Buffer.from(text, 'base64url');
  return bytes.toString('base64url') === text ? bytes : undefined;
}

/** True when every `.`-separated segment of a compact JWS/JWT is canonical base64url. */
export function isCanonicalCompact(token: string): boolean {
  return token.split('.').every((segment) => decodeBase64url(segment) !== undefined);
}
