/**
 * `tessera-oauth/verify`: accept Tessera's access tokens in a resource server (a verifier, a
 * Fastify plugin, an Express/Connect middleware) and verify Cisco Spaces launch tokens.
 * Reference: docs/verify.md.
 */
export {
  type BearerVerifier,
  type BearerVerifierOptions,
  type SigningAlg,
  type TesseraAccessTokenClaims,
  type VerifyCallOptions,
  createBearerVerifier,
} from './verifier.js';
export {
  type BearerErrorBody,
  type BearerErrorCode,
  BearerError,
  KeySetUnavailableError,
  bearerChallenge,
} from './errors.js';
export type { RequestLike } from './credentials.js';
export { type TesseraBearerOptions, sendBearerError, tesseraBearer } from './fastify.js';
export {
  type BearerMiddleware,
  type BearerMiddlewareOptions,
  type NextFunction,
  bearerMiddleware,
} from './middleware.js';
export {
  CISCO_SPACES_BASE_URLS,
  type LaunchKeySource,
  LaunchRefused,
  type SpacesLaunchClaims,
  type SpacesLaunchOptions,
  createLaunchKeySource,
  verifySpacesLaunchToken,
} from './spaces.js';
