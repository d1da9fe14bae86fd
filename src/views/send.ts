import type { FastifyReply } from 'fastify';

/**
 * An HTML page's security headers: a strict CSP without `form-action` (Chromium applies
 * `form-action` to the redirect that follows the login post and would block it),
 * `frame-ancestors 'none'` against clickjacking, images only from us or `data:`.
 */
export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy':
    "default-src 'none'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'",
  'x-frame-options': 'DENY',
  'content-type': 'text/html; charset=utf-8',
};

/** Sends an HTML page with its security headers. */
export async function sendPage(reply: FastifyReply, status: number, page: string): Promise<void> {
  await reply.code(status).headers(PAGE_HEADERS).send(page);
}
