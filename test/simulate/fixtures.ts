/**
 * Small partner sites for the simulator tests, on node:http at 127.0.0.1:0: a Cisco Spaces
 * partner that is correct unless told to have one flaw, and token endpoints for the
 * client-credentials profiles. Plus an in-memory SimulationIo.
 */
import { randomBytes } from 'node:crypto';
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import { closeServer, listenLoopback } from '../../src/simulate/launch-keys.js';
import type { SimulationIo } from '../../src/simulate/run.js';

export interface Captured {
  readonly io: SimulationIo;
  stdout(): string;
  stderr(): string;
}

/** An io whose env has exactly `env` and whose stdin is `stdin`. */
export function captureIo(env: Record<string, string> = {}, stdin = ''): Captured {
  let out = '';
  let err = '';
  let read = false;
  return {
    io: {
      env,
      readStdin: () => {
        if (read) throw new Error('stdin read twice');
        read = true;
        return Promise.resolve(stdin);
      },
      stdout: (s) => (out += s),
      stderr: (s) => (err += s),
    },
    stdout: () => out,
    stderr: () => err,
  };
}

export interface FakeSite {
  readonly url: string;
  close(): Promise<void>;
}

async function start(
  handler: (req: IncomingMessage, res: ServerResponse, body: string) => void,
): Promise<FakeSite> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handler(req, res, Buffer.concat(chunks).toString('utf8')));
  });
  const port = await listenLoopback(server);
  return { url: `http://127.0.0.1:${port}`, close: () => closeServer(server) };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

export interface PartnerFlaws {
  /** Accepts any client secret. */
  readonly anySecret?: boolean;
  /** Redirects to whatever redirect_uri it is given. */
  readonly anyRedirect?: boolean;
  /** Lets a code be redeemed again. */
  readonly reuseCodes?: boolean;
  /** Answers App Info for any partnerTenantId. */
  readonly anyTenant?: boolean;
  /** Never answers the token endpoint. */
  readonly hangToken?: boolean;
  /**
   * How it answers a token request whose code it did not issue: never (`hang`), a bare 500
   * (`crash`, as Cisco's sample did), or 400 with the wrong OAuth error (`invalid_request`).
   */
  readonly unknownCode?: 'hang' | 'crash' | 'invalid_request';
  /** Crashes (500) on a code not shaped like its own, 32 characters A–Z0–9. */
  readonly crashOnMalformedCode?: boolean;
}

export const PARTNER = {
  clientId: 'dnaspaces',
  secret: 'partner-secret-0123456789abcdef',
  redirectUri: 'https://partners.dnaspaces.io/partner/OAuthValidation',
  email: 'admin@acme.example',
  password: 'partner-password-42',
  tenant: 'acme',
} as const;

/**
 * A Cisco Spaces partner site: `/login` (GET form, POST credentials), `/token` (JSON),
 * `/app-info`. Correct, except for the `flaws` asked for.
 */
export function startPartnerSite(flaws: PartnerFlaws = {}): Promise<FakeSite> {
  const codes = new Map<string, { state: string; used: boolean }>();
  const tokens = new Set<string>();
  return start((req, res, body) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (req.method === 'GET' && url.pathname === '/login') {
      const q = url.searchParams;
      if (
        q.get('client_id') !== PARTNER.clientId ||
        (q.get('redirect_uri') !== PARTNER.redirectUri && !flaws.anyRedirect)
      ) {
        res.writeHead(400, { 'content-type': 'text/html' });
        res.end('<!doctype html><p>configuration-mismatch</p>');
        return;
      }
      const txn = Buffer.from(
        JSON.stringify({ r: q.get('redirect_uri'), s: q.get('state') }),
      ).toString('base64url');
      res.writeHead(200, { 'content-type': 'text/html', 'set-cookie': 'site=1; Path=/; HttpOnly' });
      res.end(`<!doctype html><form method='post' action="/login">
        <input type=hidden name="txn" value="${txn}">
        <input name=email type=email><input name="password" type="password">
        <button>Sign in</button></form>`);
      return;
    }
    if (req.method === 'POST' && url.pathname === '/login') {
      const form = new URLSearchParams(body);
      if (
        req.headers.cookie !== 'site=1' ||
        form.get('email') !== PARTNER.email ||
        form.get('password') !== PARTNER.password
      ) {
        res.writeHead(401, { 'content-type': 'text/html' });
        res.end('<form method=post><input name=email><input name=password type=password></form>');
        return;
      }
      const txn = JSON.parse(Buffer.from(form.get('txn') ?? '', 'base64url').toString()) as {
        r: string;
        s: string;
      };
      const code = randomBytes(16).toString('hex').toUpperCase();
      codes.set(code, { state: txn.s, used: false });
      const to = new URL(txn.r);
      to.searchParams.set('code', code);
      to.searchParams.set('state', txn.s);
      res.writeHead(303, { location: to.href });
      res.end();
      return;
    }
    if (req.method === 'POST' && url.pathname === '/token') {
      if (flaws.hangToken) return; // never answers
      const p = JSON.parse(body) as Record<string, string>;
      if (
        p['client_id'] !== PARTNER.clientId ||
        (p['client_secret'] !== PARTNER.secret && !flaws.anySecret)
      ) {
        json(res, 401, { error: 'invalid_client', error_description: 'bad client' });
        return;
      }
      const entry = codes.get(p['code'] ?? '');
      const malformed = !/^[A-Z0-9]{32}$/.test(p['code'] ?? '');
      if (!entry && flaws.unknownCode === 'hang') return; // never answers
      if (!entry && (flaws.unknownCode === 'crash' || (malformed && flaws.crashOnMalformedCode))) {
        res.writeHead(500, { 'content-type': 'text/html' });
        res.end('<h1>Internal Server Error</h1>');
        return;
      }
      if (!entry && flaws.unknownCode === 'invalid_request') {
        json(res, 400, { error: 'invalid_request', error_description: 'bad code' });
        return;
      }
      if (!entry || (entry.used && !flaws.reuseCodes) || entry.state !== p['state']) {
        json(res, 400, { error: 'invalid_grant', error_description: 'bad code' });
        return;
      }
      entry.used = true;
      const token = randomBytes(16).toString('hex');
      tokens.add(token);
      json(res, 200, { access_token: token, token_type: 'Bearer', scope: PARTNER.tenant });
      return;
    }
    if (req.method === 'GET' && url.pathname === '/app-info') {
      const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
      if (!tokens.has(token)) {
        json(res, 401, { error: 'invalid_token' });
        return;
      }
      const tenant = url.searchParams.get('partnerTenantId');
      if (tenant !== PARTNER.tenant && !flaws.anyTenant) {
        json(res, 403, { error: 'insufficient_scope' });
        return;
      }
      json(res, 200, {
        partnerTenantId: tenant,
        userEmail: PARTNER.email,
        telemetry: [{ type: 'metric', name: 'devices', value: '42', units: 'count' }],
      });
      return;
    }
    res.writeHead(404);
    res.end();
  });
}

/** A Bright Pattern token endpoint that answers `expires_in` as a number (a JSON number). */
export function startNumericExpirySite(secret: string): Promise<FakeSite> {
  return start((_req, res, body) => {
    const p = new URLSearchParams(body);
    if (p.get('client_secret') !== secret) {
      json(res, 401, { error: 'invalid_client', error_description: 'bad client' });
      return;
    }
    json(res, 200, { access_token: 'x.y.z', token_type: 'Bearer', expires_in: 3599 });
  });
}
