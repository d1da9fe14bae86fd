/**
 * The storage contract: small, domain-shaped, with its atomicity written down. Every
 * engine (SQLite, PostgreSQL) runs the same contract test suite (test/store.contract.test.ts).
 *
 * Times are integer seconds since the epoch and are passed in by the caller, so the store
 * never reads a clock of its own and tests can move time.
 */

export type GrantType = 'client_credentials' | 'refresh_token' | 'authorization_code';
export const GRANT_TYPES: readonly GrantType[] = [
  'client_credentials',
  'refresh_token',
  'authorization_code',
];

export interface Tenant {
  readonly id: string;
  readonly name: string;
  readonly domain: string | null;
  readonly appUrl: string | null;
  readonly supportEmail: string | null;
  readonly createdAt: number;
}

export interface Telemetry {
  readonly type: string;
  readonly name: string;
  readonly value: string;
  readonly units: string;
}

export interface User {
  readonly id: string;
  readonly email: string;
  readonly name: string | null;
  /** Empty for an invited user who has not set a password yet. */
  readonly passwordHash: string;
  readonly disabledAt: number | null;
  readonly createdAt: number;
  /** When the profile (name, email) last changed. */
  readonly updatedAt: number;
  /** Whether the user proved the mailbox: set a password through a mailed link (DESIGN §7). */
  readonly emailVerified: boolean;
  readonly tenants: readonly string[];
}

export interface ClientTenant {
  readonly id: string;
  readonly domain: string | null;
}

export interface Client {
  readonly id: string;
  readonly name: string;
  /** Keyed hash of the current secret; null for a public client. */
  readonly secretHash: string | null;
  readonly previousSecretHash: string | null;
  readonly previousSecretExpiresAt: number | null;
  readonly dialect: string;
  readonly grants: readonly GrantType[];
  readonly redirectUris: readonly string[];
  readonly scopes: readonly string[];
  readonly tenants: readonly ClientTenant[];
  readonly audience: string | null;
  readonly accessTokenTtl: number | null;
  readonly refreshTokenTtl: number | null;
  /**
   * Seconds a rotated refresh token stays usable while its successor is unused (a client
   * that lost the response retries); 0: off.
   */
  readonly refreshGrace: number;
  readonly requirePkce: boolean;
  /** The `alg` of its ID Tokens (one of the keystore's SIGNING_ALGS). */
  readonly idTokenAlg: string;
  /** Exact-match `post_logout_redirect_uri` values of RP-Initiated Logout. */
  readonly postLogoutRedirectUris: readonly string[];
  /** Where Back-Channel Logout POSTs logout tokens; null: the client gets none. */
  readonly backchannelLogoutUri: string | null;
  /** Asks the user's consent before signing them in; false: first-party (DESIGN §6). */
  readonly consent: boolean;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export type NewClient = Omit<
  Client,
  'tenants' | 'previousSecretHash' | 'previousSecretExpiresAt'
> & {
  readonly tenantIds: readonly string[];
};

export type ClientPatch = Partial<
  Omit<
    Client,
    'id' | 'tenants' | 'createdAt' | 'secretHash' | 'previousSecretHash' | 'previousSecretExpiresAt'
  >
> & { readonly tenantIds?: readonly string[]; readonly updatedAt: number };

export interface SigningKey {
  readonly kid: string;
  readonly alg: string;
  readonly publicJwk: string;
  readonly privateKey: string;
  readonly createdAt: number;
  readonly activatesAt: number;
  readonly publishUntil: number | null;
  /**
   * `access`: made by rotation, signs access tokens (and ID Tokens of its algorithm);
   * `id-token`: made because a client's ID Token algorithm had no key, signs ID Tokens only.
   */
  readonly purpose: 'access' | 'id-token';
}

export interface RefreshToken {
  readonly id: string;
  readonly tokenHash: string;
  readonly familyId: string;
  readonly parentId: string | null;
  readonly clientId: string;
  readonly userId: string | null;
  readonly tenantId: string | null;
  readonly scope: string;
  readonly audience: string;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly idleExpiresAt: number;
  readonly rotatedAt: number | null;
  readonly revokedAt: number | null;
  /**
   * The login behind a grant of the authorization-code flow (refreshed ID Tokens keep it;
   * ending the session revokes the family unless it holds `offline_access`); else null.
   */
  readonly authTime: number | null;
  readonly sid: string | null;
}

/** What redeeming a refresh token did (Store.redeemRefreshToken). */
export type RefreshRedemption = 'rotated' | 'replaced' | 'reused';

export interface AuthorizationCode {
  readonly codeHash: string;
  readonly clientId: string;
  readonly userId: string;
  readonly tenantId: string | null;
  readonly redirectUri: string;
  /**
   * Whether the authorization request carried `redirect_uri` (else `redirectUri` is the one
   * registered): only then must the token request repeat it (RFC 6749 §4.1.3).
   */
  readonly redirectUriSent: boolean;
  readonly state: string | null;
  readonly scope: string;
  readonly codeChallenge: string | null;
  readonly codeChallengeMethod: string | null;
  readonly grantId: string;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly consumedAt: number | null;
  /** The OpenID Connect request's `nonce`, and the login session's time and `sid`. */
  readonly nonce: string | null;
  readonly authTime: number | null;
  readonly sid: string | null;
}

/** The scopes a user allowed a `consent` client (DESIGN §6), one per (user, client). */
export interface Consent {
  readonly userId: string;
  readonly clientId: string;
  readonly scopes: readonly string[];
  readonly grantedAt: number;
}

export interface Session {
  /** Keyed hash of the cookie value. */
  readonly idHash: string;
  /** The user, or null for a session opened by a Cisco Spaces launch. */
  readonly userId: string | null;
  /** Token subject: the user id, or `spaces:<partnerTenantId>` for a launch session. */
  readonly subject: string;
  /** For a launch session, the one tenant it may act for. */
  readonly tenantId: string | null;
  readonly createdAt: number;
  readonly expiresAt: number;
}

/** A client that received an ID Token in the login session `sid` (Back-Channel Logout). */
export interface IdTokenRecipient {
  readonly sid: string;
  readonly clientId: string;
  readonly subject: string;
  /** The session ends by then at the latest; the sweep then forgets the recipient. */
  readonly expiresAt: number;
}

/** A Back-Channel Logout delivery to one client, as claimed by a worker. */
export interface LogoutJob {
  readonly id: string;
  readonly clientId: string;
  readonly subject: string;
  /** The ended session's `sid`, as its ID Tokens carried it. */
  readonly sid: string;
  readonly queuedAt: number;
  /** Attempts so far, this one included. */
  readonly attempts: number;
  /** The claim: until when this worker owns the job; finishing or retrying checks it. */
  readonly leaseUntil: number;
}

/** What an account link lets its holder do: set the first password, or a new one (DESIGN §7). */
export type AccountLinkPurpose = 'setup' | 'reset';

/** A mailed or printed link: only the keyed hash of its token is stored. */
export interface AccountLink {
  readonly tokenHash: string;
  readonly userId: string;
  readonly purpose: AccountLinkPurpose;
  readonly createdAt: number;
  readonly expiresAt: number;
}

/**
 * An account mail to send, as claimed by a worker: who, why and where, no link (the sender
 * makes it when it sends).
 */
export interface MailJob {
  readonly id: string;
  readonly purpose: AccountLinkPurpose;
  /** Null for a forgot-password request: `address` is the email as typed. */
  readonly userId: string | null;
  readonly address: string;
  readonly queuedAt: number;
  /** Attempts so far, this one included. */
  readonly attempts: number;
  /** The claim: until when this worker owns the job; finishing or retrying checks it. */
  readonly leaseUntil: number;
}

/** One audit-trail entry; never carries a secret, code or token. */
export interface AuditEvent {
  readonly id: string;
  /** Milliseconds since the epoch. */
  readonly at: number;
  readonly type: string;
  readonly tenantId?: string | null;
  readonly clientId?: string | null;
  readonly userId?: string | null;
  readonly ip?: string | null;
  readonly requestId?: string | null;
  readonly reason?: string | null;
}

export interface AuditFilter {
  /** Milliseconds since the epoch, inclusive. */
  readonly since?: number | undefined;
  readonly type?: string | undefined;
  readonly tenantId?: string | undefined;
  readonly clientId?: string | undefined;
  readonly limit: number;
}

/** Thrown when a unique key (tenant id or domain, user email, client id) is taken. */
export class ConflictError extends Error {
  override name = 'ConflictError';
}

/** Thrown when a referenced row (tenant, user, client) does not exist. */
export class NotFoundError extends Error {
  override name = 'NotFoundError';
}

/** Whose branding: a tenant's (after login) or a client's (the login page). */
export type BrandKind = 'tenant' | 'client';
export const BRAND_KINDS: readonly BrandKind[] = ['tenant', 'client'];

/** Page branding of one tenant or client; every field optional (null: the default). */
export interface Branding {
  readonly kind: BrandKind;
  readonly ownerId: string;
  readonly productName: string | null;
  /** `#rrggbb`. */
  readonly color: string | null;
  /** https: URL or mailto:. */
  readonly supportUrl: string | null;
  /** Sniffed content type of the logo (image/png, image/svg+xml, image/jpeg, image/webp). */
  readonly logoType: string | null;
  /** The logo's bytes, base64. */
  readonly logoBase64: string | null;
  readonly updatedAt: number;
}

export interface Store {
  /** Engine name, for logs and readiness. */
  readonly engine: 'sqlite' | 'postgres';
  /** Applies pending migrations; returns the names applied. */
  migrate(): Promise<string[]>;
  /** Connection-pool counters (PostgreSQL); undefined for SQLite's single connection. */
  poolStats(): { total: number; idle: number; waiting: number } | undefined;
  /** Cheap round trip to the database, for readiness. */
  ping(): Promise<void>;
  close(): Promise<void>;

  createTenant(tenant: Tenant): Promise<void>;
  updateTenant(id: string, patch: Partial<Omit<Tenant, 'id' | 'createdAt'>>): Promise<Tenant>;
  getTenant(id: string): Promise<Tenant | undefined>;
  /** Finds a tenant by id or, failing that, by domain. */
  findTenant(idOrDomain: string): Promise<Tenant | undefined>;
  listTenants(): Promise<Tenant[]>;
  /** Inserts or replaces the telemetry entry of that name. */
  setTelemetry(tenantId: string, entry: Telemetry): Promise<void>;
  listTelemetry(tenantId: string): Promise<Telemetry[]>;

  /** Creates the user and its memberships in one transaction. */
  createUser(user: Omit<User, 'tenants'>, tenantIds: readonly string[]): Promise<void>;
  getUserByEmail(email: string): Promise<User | undefined>;
  getUser(id: string): Promise<User | undefined>;
  listUsers(): Promise<User[]>;
  setUserPassword(email: string, passwordHash: string): Promise<User>;
  /** Disables the user and voids the user's account links. */
  disableUser(email: string, at: number): Promise<User>;

  /** Queues an account mail (due at once). */
  queueMail(job: Omit<MailJob, 'attempts' | 'leaseUntil'>): Promise<void>;
  /** Claims up to `limit` due mail jobs for `leaseSeconds` (see MailJob.leaseUntil). */
  claimMailJobs(now: number, leaseSeconds: number, limit: number): Promise<MailJob[]>;
  /** Deletes a mail job its claim still holds: sent, dropped or given up. */
  finishMailJob(job: MailJob): Promise<void>;
  /** Releases a mail job its claim still holds, due again at `dueAt`. */
  retryMailJob(job: MailJob, dueAt: number): Promise<void>;
  /** Stores the link and voids the user's older links, in one transaction. */
  createAccountLink(link: AccountLink): Promise<void>;
  /** The link if it exists for this purpose and is unexpired at `now`; opening it uses nothing. */
  findAccountLink(
    tokenHash: string,
    purpose: AccountLinkPurpose,
    now: number,
  ): Promise<AccountLink | undefined>;
  /**
   * Single use: iff the link is live, in one transaction, deletes it and the user's other
   * links, sets the password hash, marks the email verified, and ends every session of the
   * user with its refresh tokens as `endUserSessions` does. The user, or undefined when the
   * link was not live (of concurrent callers exactly one gets the user) or the user is disabled.
   */
  redeemAccountLink(
    tokenHash: string,
    purpose: AccountLinkPurpose,
    passwordHash: string,
    now: number,
  ): Promise<User | undefined>;

  /** Creates the client and its tenant bindings in one transaction. */
  createClient(client: NewClient): Promise<void>;
  /** Updates fields and, when `tenantIds` is given, replaces the tenant bindings, in one transaction. */
  updateClient(id: string, patch: ClientPatch): Promise<Client>;
  getClient(id: string): Promise<Client | undefined>;
  listClients(): Promise<Client[]>;
  /** Deletes the client and its bindings; its refresh tokens stop working (client lookup fails). */
  deleteClient(id: string): Promise<boolean>;
  /** Replaces the secret; the old one stays valid until `previousValidUntil` (null: not at all). */
  rotateClientSecret(
    id: string,
    secretHash: string,
    previousValidUntil: number | null,
    at: number,
  ): Promise<Client>;

  insertSigningKey(key: SigningKey): Promise<void>;
  /** All keys not yet removed from publication, oldest first. */
  listSigningKeys(): Promise<SigningKey[]>;
  /**
   * Retires, for a newly inserted successor, every other key that activates no later than
   * the successor and is not yet retired: sets its `publish_until`.
   */
  retireSigningKeys(
    successorKid: string,
    successorActivatesAt: number,
    publishUntil: number,
  ): Promise<void>;

  insertRefreshToken(token: RefreshToken): Promise<void>;
  /** The token by hash; `revokedAt` is also set when its family's grant was revoked. */
  findRefreshToken(tokenHash: string): Promise<RefreshToken | undefined>;
  /**
   * Redeems `presented` (as read by findRefreshToken): conditional UPDATEs decide, against
   * whatever happened since the read, which of three it is:
   * - `rotated`: it was live, and is now rotated with `successor` stored (rotateRefreshToken);
   * - `replaced`: with `graceSince`, a grace retry: its unused successor is revoked and
   *   `successor` stored in its place (replaceUnusedSuccessor, `rotatedSince` = `graceSince`);
   * - `reused`: neither: its family is revoked (revokeRefreshFamily until `grantExpiresAt`) and
   *   `successor` is not stored.
   * If storing `successor` fails, nothing changes and the error is thrown.
   */
  redeemRefreshToken(
    presented: RefreshToken,
    successor: RefreshToken,
    now: number,
    options: { readonly graceSince: number | null; readonly grantExpiresAt: number },
  ): Promise<RefreshRedemption>;
  /**
   * Single use: marks the token rotated iff it is live at `now` (not rotated, not revoked,
   * not expired, not idle-expired, its family's grant not revoked). One conditional UPDATE; exactly one of any number of
   * concurrent callers gets `true`. With `successor`, that row is stored in the same
   * transaction iff the rotation happened: a crash or a failed write never leaves a consumed
   * token without the successor its client is about to receive.
   */
  rotateRefreshToken(tokenHash: string, now: number, successor?: RefreshToken): Promise<boolean>;
  /**
   * Grace retry: revokes the not-yet-used successor of `parentId` and stores `successor` in
   * its place, in one transaction, iff the parent is not revoked and was rotated no earlier
   * than `rotatedSince`. Returns false, changing nothing, otherwise; if storing `successor`
   * fails, nothing is revoked either, so the client can retry. Conditional on the successor
   * never having been rotated itself, so it races safely with the successor's first use.
   */
  replaceUnusedSuccessor(
    parentId: string,
    rotatedSince: number,
    now: number,
    successor: RefreshToken,
  ): Promise<boolean>;
  /**
   * The refresh families issued in the login session `sid` that are not revoked, one entry
   * per family (its client, absolute expiry and scope), for ending the session.
   */
  listSessionRefreshFamilies(
    sid: string,
  ): Promise<{ familyId: string; clientId: string; expiresAt: number; scope: string }[]>;
  /** Revokes every token of the family and records the grant as revoked; idempotent. */
  revokeRefreshFamily(familyId: string, now: number, grantExpiresAt: number): Promise<void>;

  insertAuthorizationCode(code: AuthorizationCode): Promise<void>;
  /** The code, consumed or not, if it was issued to `clientId`; another client learns nothing. */
  findAuthorizationCode(codeHash: string, clientId: string): Promise<AuthorizationCode | undefined>;
  /**
   * Single use: marks the code consumed iff it is unconsumed and was issued to `clientId`, in
   * one conditional UPDATE whose row count decides; true iff this call consumed it. With
   * `refreshToken`, that row is stored in the same transaction iff the code was consumed.
   */
  consumeAuthorizationCode(
    codeHash: string,
    clientId: string,
    now: number,
    refreshToken?: RefreshToken,
  ): Promise<boolean>;

  /** Records a revoked access token (by `jti`) until it would have expired; idempotent. */
  revokeAccessToken(jti: string, now: number, expiresAt: number): Promise<void>;
  /** Records a revoked grant; every access token carrying this `grant_id` is refused. Idempotent. */
  revokeGrant(grantId: string, now: number, expiresAt: number): Promise<void>;
  isAccessTokenRevoked(jti: string, grantId: string | undefined): Promise<boolean>;

  createSession(session: Session): Promise<void>;
  /** The session if it exists, is unexpired at `now` and was not ended. */
  findSession(idHash: string, now: number): Promise<Session | undefined>;
  /**
   * Ends the session and, in the same transaction, queues a logout job for every client
   * with a back-channel logout URI that received an ID Token in it (`sid`).
   */
  endSession(idHash: string, sid: string, now: number): Promise<void>;
  /**
   * Ends every session of the user, queueing logout jobs as `endSession` does, and revokes
   * all of the user's refresh tokens, in one transaction (`user disable`).
   */
  endUserSessions(userId: string, now: number): Promise<void>;
  /** Records that `clientId` received an ID Token in the session `sid`; idempotent. */
  recordIdTokenRecipient(recipient: IdTokenRecipient): Promise<void>;
  /** Claims up to `limit` due logout jobs for `leaseSeconds` (see LogoutJob.leaseUntil). */
  claimLogoutJobs(now: number, leaseSeconds: number, limit: number): Promise<LogoutJob[]>;
  /** Deletes a job its claim still holds: delivered, refused or given up. */
  finishLogoutJob(job: LogoutJob): Promise<void>;
  /** Releases a job its claim still holds, due again at `dueAt`. */
  retryLogoutJob(job: LogoutJob, dueAt: number): Promise<void>;

  /**
   * Records a Cisco Spaces launch token as used. True the first time; false for a replay
   * (one INSERT … ON CONFLICT DO NOTHING: of concurrent callers exactly one gets true).
   */
  recordLaunchToken(tokenHash: string, expiresAt: number): Promise<boolean>;

  /**
   * Counts a failure against `key` in a fixed window of `window` seconds (a new window starts
   * when the stored one is that old). One upsert; returns the count including this failure.
   */
  recordFailure(
    key: string,
    now: number,
    window: number,
  ): Promise<{ count: number; windowStart: number }>;

  insertAuditEvents(events: readonly AuditEvent[]): Promise<void>;
  /** Oldest first. */
  listAuditEvents(filter: AuditFilter): Promise<AuditEvent[]>;
  /** Deletes audit events older than `before` (milliseconds); returns how many. */
  sweepAuditEvents(before: number): Promise<number>;

  /** Deletes expired codes, refresh tokens, revocations, sessions, ID Token recipients, launch records, account links and day-old throttle counters; safe to run on every node at once. */
  sweepExpired(now: number): Promise<number>;

  getBranding(kind: BrandKind, ownerId: string): Promise<Branding | undefined>;
  /** Inserts or replaces the whole row. */
  putBranding(branding: Branding): Promise<void>;
  deleteBranding(kind: BrandKind, ownerId: string): Promise<void>;

  getConsent(userId: string, clientId: string): Promise<Consent | undefined>;
  /** Inserts or replaces the (user, client) grant. */
  putConsent(consent: Consent): Promise<void>;
  /** The user's grants, by client id. */
  listConsents(userId: string): Promise<Consent[]>;
  /** False when there was none. */
  deleteConsent(userId: string, clientId: string): Promise<boolean>;
  /**
   * The user's refresh families of this client that are not revoked (one entry per family:
   * its absolute expiry), for withdrawing a consent.
   */
  listUserRefreshFamilies(
    userId: string,
    clientId: string,
  ): Promise<{ familyId: string; expiresAt: number }[]>;
}
