/**
 * The signing ceiling: raw `node:crypto` sign and verify per second, per algorithm, with a
 * cached `KeyObject`, in a tight loop of about one second each (run pinned to one core).
 * Signs the same kind of input Tessera does: a JWT signing input of an RFC 9068 token.
 * Prints one JSON line: `{"RS256": {"sign": n, "verify": n}, …}` (operations per second).
 */
import { generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';

const seconds = Number(process.argv[2] ?? '1');

const input = Buffer.from(
  `${Buffer.from('{"alg":"ES256","typ":"at+jwt","kid":"k1"}').toString('base64url')}.${Buffer.from(
    JSON.stringify({
      iss: 'http://127.0.0.1:8080',
      sub: 'client-0123456789',
      aud: 'http://127.0.0.1:8080',
      exp: 1_800_000_000,
      iat: 1_799_996_400,
      client_id: 'client-0123456789',
      scope: 'read',
      jti: '0123456789abcdef0123456789abcdef',
    }),
  ).toString('base64url')}`,
);

interface Alg {
  readonly name: string;
  readonly digest: string | null;
  readonly pair: { privateKey: KeyObject; publicKey: KeyObject };
  readonly dsa?: 'ieee-p1363';
}

const algs: Alg[] = [
  {
    name: 'RS256',
    digest: 'sha256',
    pair: generateKeyPairSync('rsa', { modulusLength: 2048 }),
  },
  {
    name: 'ES256',
    digest: 'sha256',
    pair: generateKeyPairSync('ec', { namedCurve: 'P-256' }),
    dsa: 'ieee-p1363',
  },
  { name: 'EdDSA', digest: null, pair: generateKeyPairSync('ed25519') },
];

function rate(fn: () => void): number {
  for (let i = 0; i < 50; i++) fn(); // warm-up
  const end = performance.now() + seconds * 1000;
  let n = 0;
  const start = performance.now();
  let now = start;
  while (now < end) {
    for (let i = 0; i < 20; i++) fn();
    n += 20;
    now = performance.now();
  }
  return n / ((now - start) / 1000);
}

const out: Record<string, { sign: number; verify: number }> = {};
for (const alg of algs) {
  const priv = alg.dsa ? { key: alg.pair.privateKey, dsaEncoding: alg.dsa } : alg.pair.privateKey;
  const pub = alg.dsa ? { key: alg.pair.publicKey, dsaEncoding: alg.dsa } : alg.pair.publicKey;
  const signature = sign(alg.digest, input, priv);
  out[alg.name] = {
    sign: rate(() => sign(alg.digest, input, priv)),
    verify: rate(() => {
      if (!verify(alg.digest, input, pub, signature)) throw new Error('verify failed');
    }),
  };
}
process.stdout.write(`${JSON.stringify(out)}\n`);
