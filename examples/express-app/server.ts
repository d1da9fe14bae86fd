/** Runs the example app: `npx tsx examples/express-app/server.ts` with the variables below set. */
import { createExampleApp } from './app.js';

function required(name: string): string {
  const value = process.env[name];
  if (!value) {
    console.error(`set ${name} (see examples/express-app/README.md)`);
    process.exit(2);
  }
  return value;
}

const baseUrl = process.env['BASE_URL'] ?? 'http://127.0.0.1:3000';
const app = createExampleApp({
  issuer: required('ISSUER_BASE_URL'),
  clientId: required('CLIENT_ID'),
  clientSecret: required('CLIENT_SECRET'),
  baseUrl,
  sessionSecret: required('SECRET'),
});
const port = Number(new URL(baseUrl).port || 3000);
app.listen(port, '127.0.0.1', () => console.log(`example app on ${baseUrl}`));
