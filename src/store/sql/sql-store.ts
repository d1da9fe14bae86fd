import { sql } from 'kysely';
import type { Store } from '../store.js';
import { type OpenOptions, migrateToLatest, openDatabase, pendingMigrations } from './db.js';
import * as accounts from './repositories/accounts.js';
import * as audit from './repositories/audit.js';
import * as branding from './repositories/branding.js';
import * as codes from './repositories/authorization-codes.js';
import * as consents from './repositories/consents.js';
import * as clients from './repositories/clients.js';
import * as refresh from './repositories/refresh-tokens.js';
import * as revocations from './repositories/revocations.js';
import * as sessions from './repositories/sessions.js';
import * as logout from './repositories/logout-jobs.js';
import * as queue from './repositories/job-queue.js';
import * as keys from './repositories/signing-keys.js';
import * as tenants from './repositories/tenants.js';
import * as throttle from './repositories/throttle.js';
import * as users from './repositories/users.js';

export interface SqlStore extends Store {
  /** SQLite file path, when the engine is SQLite and not in memory. */
  readonly file: string | undefined;
  /** Names of the migrations not applied yet, without applying them. */
  pendingMigrations(): Promise<string[]>;
}

/** Opens the store for a `sqlite:` or `postgres://` URL. No I/O happens until the first call. */
export function createSqlStore(url: string, options: OpenOptions = {}): SqlStore {
  const { db, engine, file, pool } = openDatabase(url, options);
  return {
    engine,
    file: file === ':memory:' ? undefined : file,
    migrate: () => migrateToLatest(db),
    pendingMigrations: () => pendingMigrations(db),
    poolStats: () =>
      pool && { total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount },
    ping: async () => {
      await sql`select 1`.execute(db);
    },
    close: () => db.destroy(),

    createTenant: (t) => tenants.createTenant(db, t),
    updateTenant: (id, p) => tenants.updateTenant(db, id, p),
    getTenant: (id) => tenants.getTenant(db, id),
    findTenant: (v) => tenants.findTenant(db, v),
    listTenants: () => tenants.listTenants(db),
    setTelemetry: (id, e) => tenants.setTelemetry(db, id, e),
    listTelemetry: (id) => tenants.listTelemetry(db, id),

    createUser: (u, t) => users.createUser(db, u, t),
    getUserByEmail: (e) => users.getUserByEmail(db, e),
    getUser: (id) => users.getUser(db, id),
    listUsers: () => users.listUsers(db),
    setUserPassword: (e, h) => users.setUserPassword(db, e, h),
    disableUser: (e, at) => users.disableUser(db, e, at),
    queueMail: (job) => accounts.queueMail(db, job),
    claimMailJobs: (now, lease, limit) => accounts.claimMailJobs(db, now, lease, limit),
    finishMailJob: (job) => queue.finishClaimed(db, 'mail_outbox', job),
    retryMailJob: (job, dueAt) => queue.retryClaimed(db, 'mail_outbox', job, dueAt),
    createAccountLink: (link) => accounts.createAccountLink(db, link),
    findAccountLink: (h, purpose, now) => accounts.findAccountLink(db, h, purpose, now),
    redeemAccountLink: (h, purpose, hash, now) =>
      accounts.redeemAccountLink(db, h, purpose, hash, now),

    createClient: (c) => clients.createClient(db, c),
    updateClient: (id, p) => clients.updateClient(db, id, p),
    getClient: (id) => clients.getClient(db, id),
    listClients: () => clients.listClients(db),
    deleteClient: (id) => clients.deleteClient(db, id),
    rotateClientSecret: (id, h, until, at) => clients.rotateClientSecret(db, id, h, until, at),

    insertSigningKey: (k) => keys.insertSigningKey(db, k),
    listSigningKeys: () => keys.listSigningKeys(db),
    retireSigningKeys: (kid, at, until) => keys.retireSigningKeys(db, kid, at, until),

    insertRefreshToken: (t) => refresh.insertRefreshToken(db, t),
    findRefreshToken: (h) => refresh.findRefreshToken(db, h),
    redeemRefreshToken: (token, next, now, options) =>
      refresh.redeemRefreshToken(db, engine, token, next, now, options),
    rotateRefreshToken: (h, now, next) => refresh.rotateRefreshToken(db, engine, h, now, next),
    replaceUnusedSuccessor: (id, since, now, next) =>
      refresh.replaceUnusedSuccessor(db, engine, id, since, now, next),
    listSessionRefreshFamilies: (sid) => refresh.listSessionRefreshFamilies(db, sid),
    revokeRefreshFamily: (f, now, exp) => refresh.revokeRefreshFamily(db, f, now, exp),

    insertAuthorizationCode: (c) => codes.insertAuthorizationCode(db, c),
    findAuthorizationCode: (h, clientId) => codes.findAuthorizationCode(db, h, clientId),
    consumeAuthorizationCode: (h, clientId, now, refreshToken) =>
      codes.consumeAuthorizationCode(db, engine, h, clientId, now, refreshToken),

    revokeAccessToken: (jti, now, exp) => revocations.revokeAccessToken(db, jti, now, exp),
    revokeGrant: (g, now, exp) => revocations.revokeGrant(db, g, now, exp),
    isAccessTokenRevoked: (jti, g) => revocations.isAccessTokenRevoked(db, jti, g),
    createSession: (s) => sessions.createSession(db, s),
    findSession: (h, now) => sessions.findSession(db, h, now),
    endSession: (h, sid, now) => logout.endSession(db, h, sid, now),
    endUserSessions: (userId, now) => logout.endUserSessions(db, userId, now),
    recordIdTokenRecipient: (r) => logout.recordIdTokenRecipient(db, r),
    claimLogoutJobs: (now, lease, limit) => logout.claimLogoutJobs(db, now, lease, limit),
    finishLogoutJob: (job) => queue.finishClaimed(db, 'logout_jobs', job),
    retryLogoutJob: (job, dueAt) => queue.retryClaimed(db, 'logout_jobs', job, dueAt),
    recordLaunchToken: (h, exp) => sessions.recordLaunchToken(db, h, exp),
    insertAuditEvents: (events) => audit.insertAuditEvents(db, engine, events),
    listAuditEvents: (f) => audit.listAuditEvents(db, f),
    sweepAuditEvents: (before) => audit.sweepAuditEvents(db, before),
    recordFailure: (key, now, window) => throttle.recordFailure(db, key, now, window),

    sweepExpired: (now) => revocations.sweepExpired(db, now),

    getBranding: (kind, id) => branding.getBranding(db, kind, id),
    putBranding: (b) => branding.putBranding(db, b),
    getConsent: (userId, clientId) => consents.getConsent(db, userId, clientId),
    putConsent: (c) => consents.putConsent(db, c),
    listConsents: (userId) => consents.listConsents(db, userId),
    deleteConsent: (userId, clientId) => consents.deleteConsent(db, userId, clientId),
    listUserRefreshFamilies: (userId, clientId) =>
      refresh.listUserRefreshFamilies(db, userId, clientId),
    deleteBranding: (kind, id) => branding.deleteBranding(db, kind, id),
  };
}
