/**
 * The confidential web client of the code-flow scenarios, the same on Tessera
 * (bench/code-flow.ts) and on the peer (bench/peer-code.ts). No imports: the peer's server
 * process loads it, and its RSS is measured.
 */
export const WEB_CLIENT = {
  clientId: 'bench-web',
  secret: 'bench-web-secret-0123456789abcdef',
  redirectUri: 'https://app.bench.example/callback',
} as const;
