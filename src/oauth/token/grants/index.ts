import type { Grant } from '../grant.js';
import { authorizationCodeGrant } from './authorization-code.js';
import { clientCredentials } from './client-credentials.js';
import { refreshToken } from './refresh-token.js';

/** The grants the token endpoint serves, by `grant_type`. */
export const GRANTS: ReadonlyMap<string, Grant> = new Map(
  [authorizationCodeGrant, clientCredentials, refreshToken].map((g) => [g.grantType, g]),
);
