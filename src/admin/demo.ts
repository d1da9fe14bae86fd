import { randomBytes } from 'node:crypto';
import { createClient } from './clients.js';
import type { AdminContext } from './context.js';
import { createTenant } from './tenants.js';
import { createUser } from './users.js';

export const DEMO_TENANT = 'demo';

/** Cisco Spaces' OAuthValidation endpoints, sandbox and live (DESIGN §1). */
export const SPACES_REDIRECT_URIS = [
  'https://partners.dnaspaces.io/partner/OAuthValidation',
  'https://dnaspaces.io/partner/OAuthValidation',
];

/** The shell variable the banner exports each demo client's secret as (the README uses them). */
const SECRET_VARIABLES: Readonly<Record<string, string>> = {
  'demo-standard': 'STANDARD_SECRET',
  'demo-cisco-spaces': 'SPACES_SECRET',
  'demo-bright-pattern': 'BRIGHT_SECRET',
  'demo-setu': 'SETU_SECRET',
};

/** What a first start shows of {@link seedDemo}'s credentials (also as the JSON banner has them). */
interface ShownCredentials {
  readonly user: { readonly password: string };
  readonly clients: readonly {
    readonly client_id: string;
    readonly client_secret: string | undefined;
  }[];
}

/**
 * `export` lines for the README's examples: where the server listens (`BASE`, so another
 * `--port` needs no editing) and, on the start that seeded them, the demo credentials.
 * Generated secrets and passwords are base64url, so they need no shell quoting.
 */
export function demoShellExports(base: string, demo: ShownCredentials | undefined): string[] {
  return [
    `export BASE=${base}`,
    ...(demo
      ? [
          `export DEMO_PASSWORD=${demo.user.password}`,
          ...demo.clients.flatMap((c) => {
            const name = SECRET_VARIABLES[c.client_id];
            return name && c.client_secret ? [`export ${name}=${c.client_secret}`] : [];
          }),
        ]
      : []),
  ];
}

/**
 * Seeds a demo tenant, a user and one client per built-in dialect — only into an empty
 * database, so a restart never adds a second set. Returns the credentials (shown once), or
 * undefined when the database already had data.
 */
export async function seedDemo(ctx: AdminContext) {
  if ((await ctx.store.listTenants()).length > 0 || (await ctx.store.listClients()).length > 0)
    return undefined;
  const tenant = await createTenant(ctx, DEMO_TENANT, {
    name: 'Demo Tenant',
    domain: 'demo.example.com',
  });
  const password = randomBytes(12).toString('base64url');
  const user = await createUser(ctx, {
    email: 'demo@example.com',
    name: 'Demo User',
    tenants: [DEMO_TENANT],
    password,
  });
  const clients = [
    await createClient(ctx, {
      name: 'Demo (standard)',
      clientId: 'demo-standard',
      dialect: 'standard',
      grants: ['client_credentials', 'refresh_token'],
      tenants: [DEMO_TENANT],
      scopes: ['api:read', 'api:write'],
    }),
    await createClient(ctx, {
      name: 'Demo (Cisco Spaces)',
      clientId: 'demo-cisco-spaces',
      dialect: 'cisco-spaces',
      redirectUris: SPACES_REDIRECT_URIS,
      tenants: [DEMO_TENANT],
    }),
    await createClient(ctx, {
      name: 'Demo (Bright Pattern)',
      clientId: 'demo-bright-pattern',
      dialect: 'bright-pattern',
      tenants: [DEMO_TENANT],
    }),
    await createClient(ctx, {
      name: 'Demo (Setu)',
      clientId: 'demo-setu',
      dialect: 'setu',
      tenants: [DEMO_TENANT],
    }),
  ];
  return {
    tenant: { id: tenant.id, domain: tenant.domain },
    user: { email: user.email, password },
    clients: clients.map((c) => ({
      client_id: c.client_id,
      client_secret: c.client_secret,
      dialect: c.dialect,
    })),
  };
}
