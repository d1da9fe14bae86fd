import type { OAuthDeps } from './context.js';
import type { Client, User } from '../store/store.js';
import { InvalidGrant } from '../errors.js';

/** Subject of a session opened by a Cisco Spaces app launch: a tenant, not a user. */
export const LAUNCH_SUBJECT_PREFIX = 'spaces:';

/**
 * Checks that the subject behind a code or refresh family may still get tokens for this
 * client and tenant: the user exists, is enabled and still belongs to the tenant (a launch
 * subject is bound to its own tenant), and the client still serves the tenant. `subject`
 * null is the client itself (client_credentials), whose tenant came from its bindings.
 * Returns the user, for the claims of its tokens (none for a launch subject or a client).
 */
export async function resolveSubject(
  deps: OAuthDeps,
  client: Client,
  subject: string | null,
  tenantId: string | null,
): Promise<{ user?: User | undefined }> {
  const bound = client.tenants.some((t) => t.id === tenantId);
  // An unbound client serves its users' tenants; a bound one, and any client's own tokens, only its bindings.
  if (tenantId !== null && !bound && (subject === null || client.tenants.length > 0)) {
    throw new InvalidGrant('the client is no longer bound to this tenant');
  }
  if (subject === null) return {};
  if (subject.startsWith(LAUNCH_SUBJECT_PREFIX)) {
    if (subject !== `${LAUNCH_SUBJECT_PREFIX}${tenantId ?? ''}`)
      throw new InvalidGrant('launch session for another tenant');
    return {};
  }
  const user = await deps.store.getUser(subject);
  if (!user || user.disabledAt !== null) throw new InvalidGrant('the user is no longer active');
  if (tenantId !== null && !user.tenants.includes(tenantId))
    throw new InvalidGrant('the user is no longer a member of this tenant');
  return { user };
}
