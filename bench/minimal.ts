/**
 * The floor: the least a client_credentials token endpoint can do, as one Fastify route. It
 * parses the form body, checks the client secret against a stored HMAC-SHA256 (as Tessera
 * stores secrets), signs an RFC 9068 JWT with a cached `KeyObject` and answers the RFC 6749
 * JSON with `Cache-Control: no-store` — and nothing else: no database, no client lookup, no
 * audit trail, no metrics, no logging, no rate limits, no dialects, no error handling beyond
 * a 401. Tessera's rows are compared with it to show what its features cost, apart from what
 * any token server must spend on this machine. Like Tessera, it signs in the handler and
 * writes each answer as soon as it is made.
 *
 * Usage: node --import tsx bench/minimal.ts <RS256|ES256|EdDSA> <port> <client_id> <secret>
 * Prints one JSON line `{"url": …}` once listening.
 */
import {
  createHmac,
  generateKeyPairSync,
  randomBytes,
  randomUUID,
  sign,
  timingSafeEqual,
} from 'node:crypto';
import Fastify from 'fastify';

const [alg = 'ES256', portArg = '0', clientId = 'bench', clientSecret = 'bench-secret'] =
  process.argv.slice(2);
const port = Number(portArg);

const { privateKey } =
  alg === 'RS256'
    ? generateKeyPairSync('rsa', { modulusLength: 2048 })
    : alg === 'ES256'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : generateKeyPairSync('ed25519');
const signBytes = (data: Buffer): Buffer =>
  alg === 'RS256'
    ? sign('sha256', data, privateKey)
    : alg === 'ES256'
      ? sign('sha256', data, { key: privateKey, dsaEncoding: 'ieee-p1363' })
      : sign(null, data, privateKey);
const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
const header = b64({ alg, typ: 'at+jwt', kid: 'minimal' });
const hashKey = randomBytes(32);
const hash = (secret: string) => createHmac('sha256', hashKey).update(secret, 'utf8').digest();
const storedHash = hash(clientSecret);

const app = Fastify({ logger: false });
app.addContentTypeParser(
  'application/x-www-form-urlencoded',
  { parseAs: 'string' },
  (_req, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))),
);
const issuer = `http://127.0.0.1:${port}`;
app.post('/token', async (request, reply) => {
  const p = request.body as Record<string, string | undefined>;
  if (p['client_id'] !== clientId || !timingSafeEqual(hash(p['client_secret'] ?? ''), storedHash))
    return reply.code(401).send({ error: 'invalid_client' });
  const now = Math.floor(Date.now() / 1000);
  const input = `${header}.${b64({
    iss: issuer,
    sub: clientId,
    aud: issuer,
    exp: now + 3600,
    iat: now,
    client_id: clientId,
    scope: p['scope'] ?? '',
    jti: randomUUID(),
  })}`;
  return reply
    .header('cache-control', 'no-store')
    .header('pragma', 'no-cache')
    .send({
      access_token: `${input}.${signBytes(Buffer.from(input)).toString('base64url')}`,
      token_type: 'Bearer',
      expires_in: 3600,
      scope: p['scope'] ?? '',
    });
});
await app.listen({ port, host: '127.0.0.1' });
process.stdout.write(`${JSON.stringify({ url: issuer })}\n`);
