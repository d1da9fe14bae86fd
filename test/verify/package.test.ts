/**
 * `tessera-oauth/verify` as a package user imports it, and `verifySpacesLaunchToken` through
 * it against a loopback Cisco key server.
 *
 * The export map points at dist/, which only a build (`npm ci` runs it) writes. Importing
 * dist here would test whatever build happens to be lying around, possibly stale. Instead:
 * Node resolves the package specifier (self-reference through `exports`), TypeScript's own
 * API says which source file `tsc -p tsconfig.json` emits to exactly that path (and to the
 * declared `types` path), and that source file is what the behaviour tests import. A broken
 * map, a build that no longer emits the entry, or a renamed entry fails here; nothing
 * depends on the state of dist/.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';
import { ROOT } from '../helpers/cli.js';
import {
  type FakeKeyServer,
  type RsaKey,
  hmacWithPublicKey,
  launchClaims,
  mintLaunchToken,
  rsaKey,
  startFakeKeyServer,
  tamperPayload,
  unsignedToken,
} from '../helpers/spaces.js';

type VerifyModule = typeof import('../../src/verify/index.js');

const SPECIFIER = 'tessera-oauth/verify';

/** The build's view of the project: root files and where each is emitted. */
function buildProgram(): ts.ParsedCommandLine {
  const parsed = ts.getParsedCommandLineOfConfigFile(
    join(ROOT, 'tsconfig.json'),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      },
    },
  );
  assert.ok(parsed);
  return parsed;
}

/** The source file tsc emits to `output`, or undefined. */
function sourceEmittingTo(program: ts.ParsedCommandLine, output: string): string | undefined {
  return program.fileNames.find((f) => ts.getOutputFileNames(program, f, false).includes(output));
}

let loaded: VerifyModule | undefined;

/** The module `tessera-oauth/verify` resolves to, loaded from the source tsc builds it from. */
async function importPackage(): Promise<VerifyModule> {
  if (loaded) return loaded;
  const resolved = fileURLToPath(import.meta.resolve(SPECIFIER));
  const source = sourceEmittingTo(buildProgram(), resolved);
  assert.ok(source, `no source file of tsconfig.json is emitted to ${resolved}`);
  loaded = (await import(pathToFileURL(source).href)) as VerifyModule;
  return loaded;
}

describe(`the ${SPECIFIER} export`, () => {
  test('resolves to the build output of src/verify/index.ts, declarations beside it', () => {
    const resolved = fileURLToPath(import.meta.resolve(SPECIFIER));
    assert.equal(resolved, join(ROOT, 'dist/verify/index.js'));
    const program = buildProgram();
    const entry = join(ROOT, 'src/verify/index.ts');
    assert.equal(sourceEmittingTo(program, resolved), entry);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      name: string;
      exports: Record<string, { types: string; default: string } | string>;
      files: string[];
    };
    assert.equal(pkg.name, 'tessera-oauth');
    const target = pkg.exports['./verify'];
    assert.ok(typeof target === 'object');
    // `types` first: TypeScript takes the first condition that matches.
    assert.deepEqual(Object.keys(target), ['types', 'default']);
    assert.ok(ts.getOutputFileNames(program, entry, false).includes(join(ROOT, target.types)));
    assert.equal(join(ROOT, target.default), resolved);
    assert.ok(pkg.files.includes('dist'));
    assert.equal(pkg.exports['./package.json'], './package.json');
    assert.equal(
      fileURLToPath(import.meta.resolve('tessera-oauth/package.json')),
      join(ROOT, 'package.json'),
    );
  });

  test('only the public entry is exported (no deep imports into dist)', () => {
    assert.throws(() => import.meta.resolve('tessera-oauth/dist/verify/verifier.js'), {
      code: 'ERR_PACKAGE_PATH_NOT_EXPORTED',
    });
    assert.throws(() => import.meta.resolve('tessera-oauth'), {
      code: 'ERR_PACKAGE_PATH_NOT_EXPORTED',
    });
  });

  test('the entry exports the documented API', async () => {
    const mod = await importPackage();
    assert.deepEqual(Object.keys(mod).sort(), [
      'BearerError',
      'CISCO_SPACES_BASE_URLS',
      'KeySetUnavailableError',
      'LaunchRefused',
      'bearerChallenge',
      'bearerMiddleware',
      'createBearerVerifier',
      'createLaunchKeySource',
      'sendBearerError',
      'tesseraBearer',
      'verifySpacesLaunchToken',
    ]);
  });
});

describe(`verifySpacesLaunchToken from ${SPECIFIER}`, () => {
  let mod: VerifyModule;
  let cisco: FakeKeyServer;
  let key: RsaKey;
  const now = () => Math.floor(Date.now() / 1000);

  before(async () => {
    mod = await importPackage();
    key = rsaKey(1024);
    cisco = await startFakeKeyServer([
      { version: 1, key },
      { version: 'v2', key: rsaKey(2048) },
    ]);
  });
  after(() => cisco.close());

  const refused = (pending: Promise<unknown>, why: RegExp) =>
    assert.rejects(pending, (err: unknown) => {
      assert.ok(err instanceof mod.LaunchRefused, String(err));
      assert.match(err.message, why);
      return true;
    });

  test('a Cisco-signed token (1024-bit RSA) → its claims; keys are fetched once, then cached', async () => {
    const claims = launchClaims('acme', cisco.url, now());
    const before = cisco.requests.length;
    const got = await mod.verifySpacesLaunchToken(mintLaunchToken(key.privateKey, claims), {
      version: '1',
      allowedBaseUrls: [`${cisco.url}/`],
    });
    assert.deepEqual(got, claims);
    const again = launchClaims('globex', cisco.url, now());
    assert.deepEqual(
      await mod.verifySpacesLaunchToken(mintLaunchToken(key.privateKey, again), {
        version: '1',
        allowedBaseUrls: [cisco.url],
      }),
      again,
    );
    assert.equal(cisco.requests.length - before, 1);
  });

  test('by default only the Cisco Spaces base URLs are trusted: nothing is fetched elsewhere', async () => {
    assert.ok(mod.CISCO_SPACES_BASE_URLS.includes('https://dnaspaces.io'));
    assert.ok(mod.CISCO_SPACES_BASE_URLS.includes('https://partners.dnaspaces.io'));
    // A key server nothing has fetched from yet, so a fetch could not hide behind a cache.
    const elsewhere = await startFakeKeyServer([{ version: 1, key }]);
    try {
      const token = mintLaunchToken(key.privateKey, launchClaims('acme', elsewhere.url, now()));
      await refused(mod.verifySpacesLaunchToken(token, { version: '1' }), /not an allowed/);
      assert.deepEqual(elsewhere.requests, []);
      // The same token is fine once its base URL is allowed: the refusal was the allow-list.
      await mod.verifySpacesLaunchToken(token, { version: '1', allowedBaseUrls: [elsewhere.url] });
      assert.equal(elsewhere.requests.length, 1);
    } finally {
      await elsewhere.close();
    }
  });

  test('now defaults to the clock; exp has a 60 s skew unless told otherwise', async () => {
    const allowedBaseUrls = [cisco.url];
    const at = (exp: number) =>
      mintLaunchToken(key.privateKey, launchClaims('acme', cisco.url, 0, { exp }));
    await refused(
      mod.verifySpacesLaunchToken(at(now() - 61), { version: '1', allowedBaseUrls }),
      /expired/,
    );
    const recent = at(now() - 30);
    assert.equal(
      (await mod.verifySpacesLaunchToken(recent, { version: '1', allowedBaseUrls }))
        .partnerTenantId,
      'acme',
    );
    await refused(
      mod.verifySpacesLaunchToken(recent, { version: '1', allowedBaseUrls, skewSeconds: 0 }),
      /expired/,
    );
    const old = at(1_000_000_000);
    await refused(mod.verifySpacesLaunchToken(old, { version: '1', allowedBaseUrls }), /expired/);
    assert.equal(
      (
        await mod.verifySpacesLaunchToken(old, {
          version: '1',
          allowedBaseUrls,
          now: 1_000_000_000 - 5,
        })
      ).exp,
      1_000_000_000,
    );
  });

  test('forgeries and mismatches are refused', async () => {
    const opts = { version: '1', allowedBaseUrls: [cisco.url] };
    const claims = launchClaims('acme', cisco.url, now());
    await refused(mod.verifySpacesLaunchToken(unsignedToken(claims), opts), /algorithm none/);
    for (const forged of hmacWithPublicKey(claims, key))
      await refused(mod.verifySpacesLaunchToken(forged, opts), /algorithm HS256/);
    const token = mintLaunchToken(key.privateKey, claims);
    await refused(
      mod.verifySpacesLaunchToken(tamperPayload(token, { partnerTenantId: 'globex' }), opts),
      /signature invalid/,
    );
    // Signed by the 1024-bit key, checked against the key published as v2.
    await refused(
      mod.verifySpacesLaunchToken(token, { ...opts, version: 'v2' }),
      /signature invalid/,
    );
    await refused(
      mod.verifySpacesLaunchToken(token, { ...opts, version: '9' }),
      /no partner public key/,
    );
  });

  test('a key source of your own (e.g. another timeout) is used instead of the shared one', async () => {
    const keys = mod.createLaunchKeySource({ timeoutMs: 2000 });
    const before = cisco.requests.length;
    const claims = launchClaims('acme', cisco.url, now());
    const token = mintLaunchToken(key.privateKey, claims);
    assert.deepEqual(
      await mod.verifySpacesLaunchToken(token, {
        version: '1',
        allowedBaseUrls: [cisco.url],
        keys,
      }),
      claims,
    );
    assert.equal(cisco.requests.length - before, 1);
  });
});
