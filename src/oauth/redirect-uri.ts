/**
 * Redirect URI matching (RFC 9700 §4.1.3): the string sent must equal a registered one,
 * character for character — no normalisation, since every normalisation is a chance for the
 * browser and Tessera to disagree about where the code goes. The one exception is RFC 8252
 * §7.3: a native app listens on an ephemeral port of a loopback IP it cannot register in
 * advance, so for `http://127.0.0.1` and `http://[::1]` only the port may differ. `localhost`
 * is a name a resolver (or a hosts file) may send elsewhere, so it gets no such relaxation.
 */

// The literal host, an optional port 1–65535 without leading zeros, then a path or query:
// `http://127.0.0.1./x` (which the URL parser also reads as 127.0.0.1) or an empty port is
// no loopback IP literal and must match exactly.
const LOOPBACK_IP = /^http:\/\/(127\.0\.0\.1|\[::1\])(?::([1-9][0-9]{0,4}))?(?=[/?]|$)(.*)$/s;

function loopbackParts(uri: string): { host: string; rest: string } | undefined {
  const m = LOOPBACK_IP.exec(uri);
  if (!m || Number(m[2] ?? 80) > 65535) return undefined;
  return { host: m[1] as string, rest: m[3] as string };
}

/** Whether `sent` may stand for `registered`. */
export function redirectUriMatches(registered: string, sent: string): boolean {
  if (sent === registered) return true;
  const r = loopbackParts(registered);
  if (!r) return false;
  const s = loopbackParts(sent);
  return s !== undefined && s.host === r.host && s.rest === r.rest;
}
