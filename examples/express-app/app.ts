/**
 * A partner's web app that signs people in with Tessera through a standard OpenID Connect
 * library (express-openid-connect: authorization code flow with PKCE, RP-Initiated Logout) and
 * serves an API that accepts Tessera's access tokens (tessera-oauth/verify). Copy it: nothing
 * here is specific to the test that drives it.
 */
import express, { type Express } from 'express';
import eoc from 'express-openid-connect';

// A CommonJS package: its named exports are read from the default one under ESM.
const { auth, requiresAuth } = eoc;
import { bearerMiddleware, createBearerVerifier } from 'tessera-oauth/verify';

export interface ExampleConfig {
  /** Tessera's issuer, e.g. https://auth.example.com */
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** Where this app is reached, e.g. https://app.example.com (the redirect URI is `${baseUrl}/callback`). */
  readonly baseUrl: string;
  /** 32+ random characters that encrypt this app's own session cookie. */
  readonly sessionSecret: string;
}

/** HTML-escapes a value shown on a page. */
function escape(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function createExampleApp(config: ExampleConfig): Express {
  const app = express();
  app.use(
    auth({
      issuerBaseURL: config.issuer,
      baseURL: config.baseUrl,
      clientID: config.clientId,
      clientSecret: config.clientSecret,
      secret: config.sessionSecret,
      // Pages decide for themselves (requiresAuth); the home page is public.
      authRequired: false,
      // Logging out of the app also ends the Tessera session (its end_session_endpoint).
      idpLogout: true,
      authorizationParams: { response_type: 'code', scope: 'openid profile email' },
    }),
  );

  app.get('/', (req, res) => {
    res.type('html').send(
      req.oidc.isAuthenticated()
        ? `<p>Signed in as <span id="email">${escape(req.oidc.user?.['email'])}</span>.</p>
           <p><a href="/profile">Profile</a> · <a href="/call-api">Call the API</a> · <a href="/logout">Sign out</a></p>`
        : '<p>Signed out.</p><p><a href="/login">Sign in</a></p>',
    );
  });

  app.get('/profile', requiresAuth(), (req, res) => {
    res
      .type('html')
      .send(`<pre id="claims">${escape(JSON.stringify(req.oidc.user, null, 2))}</pre>`);
  });

  // The partner's API accepts only tokens minted for it: the client is registered with
  // `--audience ${baseUrl}/api`, so a token Tessera issued to another client (whose `aud` is
  // the issuer, or another API) is refused.
  const verifier = createBearerVerifier({
    issuer: config.issuer,
    audience: `${config.baseUrl}/api`,
  });
  app.get('/api/hello', bearerMiddleware(verifier), (req, res) => {
    res.json({ hello: req.auth?.sub });
  });

  // The web app calling that API with the signed-in user's access token.
  app.get('/call-api', requiresAuth(), async (req, res, next) => {
    try {
      const token = req.oidc.accessToken?.access_token ?? '';
      const answer = await fetch(new URL('/api/hello', config.baseUrl), {
        headers: { authorization: `Bearer ${token}` },
      });
      res.status(answer.status).json(await answer.json());
    } catch (err) {
      next(err);
    }
  });
  return app;
}
