/**
 * The HTTP ceiling: a bare Fastify 5 route answering a small JSON object (the size of a
 * token response), no plugins, logging off. Usage: node --import tsx bench/bare.ts <port>
 * Prints one JSON line `{"url": …}` once listening.
 */
import Fastify from 'fastify';

const port = Number(process.argv[2] ?? '0');
const app = Fastify({ logger: false });
app.post('/token', async () => ({
  access_token: 'x'.repeat(600),
  token_type: 'Bearer',
  expires_in: 3600,
  scope: 'read',
}));
app.get('/json', async () => ({ hello: 'world' }));
const address = await app.listen({ port, host: '127.0.0.1' });
process.stdout.write(`${JSON.stringify({ url: address })}\n`);
