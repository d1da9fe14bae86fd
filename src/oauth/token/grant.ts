import type { FastifyRequest } from 'fastify';
import type { OAuthDeps } from '../context.js';
import type { Client, GrantType } from '../../store/store.js';
import type { Dialect, TokenResult } from '../dialects/index.js';

export interface GrantContext {
  readonly deps: OAuthDeps;
  readonly request: FastifyRequest;
  readonly client: Client;
  readonly dialect: Dialect;
  /** Request parameters with the dialect's aliases resolved to RFC names. */
  readonly params: Readonly<Record<string, string>>;
}

/** Every grant module has this face; adding a grant is one file and one line in `grants/index.ts`. */
export interface Grant {
  readonly grantType: GrantType;
  /** Parameters that must be present (`invalid_request` otherwise). */
  readonly parameters: readonly string[];
  handle(ctx: GrantContext): Promise<TokenResult>;
}
