import type { FastifyReply } from 'fastify';

/**
 * Sends an HTML page with its security headers: a strict CSP without `form-action`
 * (Chromium applies `form-action` to the redirect that follows the login post and would
 * block it), `frame-ancestors 'none'` against clickjacking, images only from us or `data:`.
 */
export async function sendPage(reply: FastifyReply, status: number, page: string): Promise<void> {
  await reply
    .code(status)
    .header(
      'content-security-policy',
      "default-src 'none'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'",
    )
    .header('x-frame-options', 'DENY')
    .type('text/html; charset=utf-8')
    .send(page);
}
