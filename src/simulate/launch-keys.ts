/**
 * The Cisco side of an app launch, as the simulator plays it (and the launch tests reuse it):
 * RSA keys of 1024 or 2048 bits, RS256 launch JWTs signed with `node:crypto` (jose refuses
 * 1024-bit keys, which is what Spaces uses), and a loopback key server answering
 * `/client/v1/partner/partnerPublicKey` with `{status, data:[{version, publicKey}]}` (base64
 * SPKI DER keys) that records every request.
 */
import { type KeyObject, generateKeyPairSync, sign as cryptoSign } from 'node:crypto';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RsaKey {
  readonly bits: 1024 | 2048;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** The public key as Cisco publishes it: base64 of the SPKI DER encoding. */
  readonly spki: string;
}

export function rsaKey(bits: 1024 | 2048): RsaKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: bits });
  const spki = publicKey.export({ format: 'der', type: 'spki' }).toString('base64');
  return { bits, privateKey, publicKey, spki };
}

/** Claims of a Cisco Spaces launch token (no `iss`, `aud` or `typ`, as Cisco sends them). */
export interface LaunchClaims {
  readonly partnerTenantId: string;
  readonly tenantId: number;
  readonly baseUrl: string;
  readonly appId: string;
  readonly activationRefId: string;
  readonly exp: number;
  readonly [claim: string]: unknown;
}

/** Default claims for a launch of `partnerTenantId`, valid for 5 minutes after `now`. */
export function launchClaims(
  partnerTenantId: string,
  baseUrl: string,
  now: number,
  extra: Partial<LaunchClaims> = {},
): LaunchClaims {
  return {
    partnerTenantId,
    tenantId: 31337,
    baseUrl,
    appId: 'app-4f1c',
    activationRefId: 'act-9d2e7b',
    exp: now + 300,
    ...extra,
  };
}

export function b64url(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** An RS256 JWT over `claims`, signed with `node:crypto` (works for 1024-bit keys too). */
export function mintLaunchToken(
  key: KeyObject,
  claims: LaunchClaims | Record<string, unknown>,
  header: Record<string, unknown> = { alg: 'RS256', typ: 'JWT' },
): string {
  const input = `${b64url(header)}.${b64url(claims)}`;
  const signature = cryptoSign('RSA-SHA256', Buffer.from(input), key).toString('base64url');
  return `${input}.${signature}`;
}

export const PARTNER_KEY_PATH = '/client/v1/partner/partnerPublicKey';

export interface PublishedKey {
  /** As Cisco lists it; a number or a string on the wire. */
  readonly version: number | string;
  readonly key: RsaKey;
}

export interface FakeKeyServer {
  /** `http://127.0.0.1:<port>`, the `baseUrl` launch tokens name. */
  readonly url: string;
  /** Every request path (with query) received, in order. */
  readonly requests: string[];
  /** The keys served; may be changed between requests. */
  keys: PublishedKey[];
  close(): Promise<void>;
}

export function listenLoopback(server: Server, port = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** A loopback Cisco key server on `port` (0: any free port). */
export async function startFakeKeyServer(keys: PublishedKey[], port = 0): Promise<FakeKeyServer> {
  const requests: string[] = [];
  const state = { keys };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = req.url ?? '/';
    requests.push(path);
    const entries = state.keys.map((k) => ({ version: k.version, publicKey: k.key.spki }));
    let data: typeof entries | undefined;
    if (req.method === 'GET' && path === PARTNER_KEY_PATH) data = entries;
    else if (req.method === 'GET' && path.startsWith(`${PARTNER_KEY_PATH}/`)) {
      const version = decodeURIComponent(path.slice(PARTNER_KEY_PATH.length + 1));
      data = entries.filter((e) => String(e.version) === version);
    }
    if (data === undefined) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: false, message: 'not found' }));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ status: true, data }));
  });
  const bound = await listenLoopback(server, port);
  return {
    url: `http://127.0.0.1:${bound}`,
    requests,
    get keys() {
      return state.keys;
    },
    set keys(value) {
      state.keys = value;
    },
    close: () => closeServer(server),
  };
}
