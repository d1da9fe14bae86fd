/**
 * The peer: node-oidc-provider configured like Tessera's client_credentials path —
 * `client_secret_post`, JWT access tokens (RFC 9068 via `features.resourceIndicators` with
 * `accessTokenFormat: 'jwt'`) signed with the algorithm given as argv[2], in-memory adapter.
 * With argv[2] = `opaque` it issues opaque access tokens (its default, in-memory store).
 *
 * Usage: node --import tsx bench/peer.ts <RS256|ES256|EdDSA|opaque> <port> <client_id> <secret>
 * Prints one JSON line `{"url": …}` once listening.
 */
import { generateKeyPairSync } from 'node:crypto';
import Provider from 'oidc-provider';

const [mode = 'ES256', portArg = '0', clientId = 'bench', clientSecret = 'bench-secret'] =
  process.argv.slice(2);
const port = Number(portArg);
const issuer = `http://127.0.0.1:${port}`;
const RESOURCE = 'https://api.bench.example';

const keys = [
  generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }),
  generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }),
  generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' }),
];

const jwtMode = mode !== 'opaque';

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: clientId,
      client_secret: clientSecret,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_post',
      scope: 'read',
    },
  ],
  jwks: { keys },
  scopes: ['read'],
  ttl: { ClientCredentials: 3600 },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => (jwtMode ? RESOURCE : undefined),
      getResourceServerInfo: () => ({
        scope: 'read',
        audience: RESOURCE,
        accessTokenTTL: 3600,
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg: mode as 'RS256' | 'ES256' | 'EdDSA' } },
      }),
    },
  },
});

provider.listen(port, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ url: issuer })}\n`);
});
