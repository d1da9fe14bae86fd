/**
 * Table shapes as Kysely sees them. Times are integer seconds since the epoch (BIGINT on
 * PostgreSQL, read back as numbers); lists are JSON text so one schema serves both engines.
 */

export interface TenantsTable {
  id: string;
  name: string;
  domain: string | null;
  app_url: string | null;
  support_email: string | null;
  created_at: number;
}

export interface TenantTelemetryTable {
  tenant_id: string;
  name: string;
  type: string;
  value: string;
  units: string;
}

export interface UsersTable {
  id: string;
  email: string;
  name: string | null;
  password_hash: string;
  disabled_at: number | null;
  created_at: number;
  /** When the profile (name, email) last changed: the `updated_at` claim. */
  updated_at: number;
  /** 1 once the address is known to be the user's (`email_verified`). */
  email_verified: number;
}

export interface MembershipsTable {
  user_id: string;
  tenant_id: string;
}

export interface ClientsTable {
  id: string;
  name: string;
  /** Keyed hash of the secret (`v1$…`); null for public clients. */
  secret_hash: string | null;
  /** The rotated-out secret, valid until `previous_secret_expires_at`. */
  previous_secret_hash: string | null;
  previous_secret_expires_at: number | null;
  dialect: string;
  grants: string;
  redirect_uris: string;
  scopes: string;
  audience: string | null;
  access_token_ttl: number | null;
  refresh_token_ttl: number | null;
  /** Seconds (0: off); see Client.refreshGrace. */
  refresh_grace: number;
  require_pkce: number;
  /** The `alg` of the client's ID Tokens. */
  id_token_alg: string;
  /** JSON array of exact RP-Initiated Logout targets. */
  post_logout_redirect_uris: string;
  backchannel_logout_uri: string | null;
  /** 1: asks the user's consent (not first-party). */
  consent: number;
  created_at: number;
  updated_at: number;
}

export interface ClientTenantsTable {
  client_id: string;
  tenant_id: string;
}

export interface SigningKeysTable {
  kid: string;
  alg: string;
  public_jwk: string;
  /** PKCS#8 DER, AES-256-GCM encrypted under the key-encryption subkey. */
  private_key: string;
  created_at: number;
  /** From this time on the key may sign (published in the JWKS from `created_at`). */
  activates_at: number;
  /** Leaves the JWKS after this time; null while no successor has been activated. */
  publish_until: number | null;
  /** `access`, or `id-token` for a key that signs only ID Tokens (see SigningKey.purpose). */
  purpose: string;
}

export interface RefreshTokensTable {
  id: string;
  token_hash: string;
  family_id: string;
  parent_id: string | null;
  client_id: string;
  user_id: string | null;
  tenant_id: string | null;
  scope: string;
  audience: string;
  created_at: number;
  /** Absolute expiry of the family (copied to every member). */
  expires_at: number;
  /** Idle expiry: this token lapses if not used by then. */
  idle_expires_at: number;
  /** Set when the token is redeemed for a successor. */
  rotated_at: number | null;
  revoked_at: number | null;
  /** The login's time, copied to every member (null: not an OpenID Connect grant). */
  auth_time: number | null;
  /** The login session's `sid`, copied to every member. */
  sid: string | null;
}

export interface AuthorizationCodesTable {
  code_hash: string;
  client_id: string;
  user_id: string;
  tenant_id: string | null;
  redirect_uri: string;
  /** 1 when the authorization request carried `redirect_uri`; old nodes leave the default 1. */
  redirect_uri_sent: number;
  state: string | null;
  scope: string;
  code_challenge: string | null;
  code_challenge_method: string | null;
  grant_id: string;
  created_at: number;
  expires_at: number;
  consumed_at: number | null;
  nonce: string | null;
  auth_time: number | null;
  sid: string | null;
}

export interface RevokedTokensTable {
  jti: string;
  revoked_at: number;
  /** The token's own expiry: the row can be swept after it. */
  expires_at: number;
}

export interface RevokedGrantsTable {
  grant_id: string;
  revoked_at: number;
  expires_at: number;
}

export interface SessionsTable {
  id_hash: string;
  /** The user, or null for a session opened by a Cisco Spaces launch (tenant only). */
  user_id: string | null;
  subject: string;
  tenant_id: string | null;
  created_at: number;
  expires_at: number;
  revoked_at: number | null;
}

export interface IdTokenRecipientsTable {
  sid: string;
  client_id: string;
  subject: string;
  /** No session it names outlives this (issue time + sessionTtl): then the sweep drops it. */
  expires_at: number;
}

export interface LogoutJobsTable {
  id: string;
  client_id: string;
  subject: string;
  sid: string;
  queued_at: number;
  due_at: number;
  attempts: number;
  lease_until: number | null;
}

export interface MailOutboxTable {
  id: string;
  /** `setup` (an invitation) or `reset`. */
  purpose: string;
  /** Null for a forgot-password request: `address` is then the email as typed. */
  user_id: string | null;
  address: string;
  queued_at: number;
  due_at: number;
  attempts: number;
  lease_until: number | null;
}

export interface AccountLinksTable {
  /** Keyed hash of the link's token; the token itself is only in the mail. */
  token_hash: string;
  user_id: string;
  purpose: string;
  created_at: number;
  expires_at: number;
}

export interface LaunchTokensTable {
  token_hash: string;
  expires_at: number;
}

export interface ThrottleCountersTable {
  key: string;
  window_start: number;
  count: number;
}

export interface AuditEventsTable {
  id: string;
  /** Milliseconds since the epoch (events within one second keep their order). */
  at: number;
  type: string;
  tenant_id: string | null;
  client_id: string | null;
  user_id: string | null;
  ip: string | null;
  request_id: string | null;
  reason: string | null;
}

export interface BrandingTable {
  kind: string;
  owner_id: string;
  product_name: string | null;
  color: string | null;
  support_url: string | null;
  logo_type: string | null;
  logo_base64: string | null;
  updated_at: number;
}

export interface ConsentsTable {
  user_id: string;
  client_id: string;
  /** The allowed scopes, space-separated. */
  scope: string;
  granted_at: number;
}

export interface Database {
  tenants: TenantsTable;
  tenant_telemetry: TenantTelemetryTable;
  users: UsersTable;
  memberships: MembershipsTable;
  clients: ClientsTable;
  client_tenants: ClientTenantsTable;
  signing_keys: SigningKeysTable;
  refresh_tokens: RefreshTokensTable;
  authorization_codes: AuthorizationCodesTable;
  revoked_tokens: RevokedTokensTable;
  revoked_grants: RevokedGrantsTable;
  sessions: SessionsTable;
  launch_tokens: LaunchTokensTable;
  id_token_recipients: IdTokenRecipientsTable;
  logout_jobs: LogoutJobsTable;
  mail_outbox: MailOutboxTable;
  account_links: AccountLinksTable;
  throttle_counters: ThrottleCountersTable;
  audit_events: AuditEventsTable;
  branding: BrandingTable;
  consents: ConsentsTable;
}
